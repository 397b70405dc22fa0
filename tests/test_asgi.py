import pytest
from asgiref.testing import ApplicationCommunicator

from deepchecker_site.asgi import application


async def get(path: str) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(5)
    body = b""
    while True:
        message = await communicator.receive_output(5)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(5)
    return start["status"], body


@pytest.mark.django_db(transaction=True)
async def test_the_one_server_serves_static_files():
    status, body = await get("/static/admin/css/base.css")
    assert status == 200
    assert b"body" in body


@pytest.mark.django_db(transaction=True)
async def test_the_one_server_serves_pages():
    status, body = await get("/accounts/login/")
    assert status == 200
    assert b"<h1>Sign in</h1>" in body
