import pytest

from tests.asgi import request


@pytest.mark.django_db(transaction=True)
async def test_the_one_server_serves_static_files():
    status, body = await request("GET", "/static/admin/css/base.css")
    assert status == 200
    assert b"body" in body


@pytest.mark.django_db(transaction=True)
async def test_the_one_server_serves_pages():
    status, body = await request("GET", "/accounts/login/")
    assert status == 200
    assert b"<h1>Sign in</h1>" in body
