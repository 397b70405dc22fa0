import json

import pytest

from tests.asgi import request


@pytest.mark.django_db(transaction=True)
async def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(settings):
    settings.UPLOAD_MAX_BYTES = 10 * 1024**2
    status, body = await request("POST", "/", [(b"content-length", str(40 * 1024**2).encode())])
    assert status == 413
    # the element where the upload form shows its errors
    assert body.startswith(
        b'<div id="upload-errors" role="alert"><p class="error">This upload holds 40 MB; at most 10 MB'
    )


@pytest.mark.django_db(transaction=True)
async def test_a_body_within_the_limit_reaches_django(settings):
    settings.UPLOAD_MAX_BYTES = 10 * 1024**2
    status, body = await request("POST", "/", [(b"content-length", b"5")], (b"a=b", b"&c"))
    assert status == 403  # Django's CSRF check answered


@pytest.mark.django_db(transaction=True)
async def test_a_program_is_refused_in_json(settings):
    settings.UPLOAD_MAX_BYTES = 10 * 1024**2
    status, body = await request("POST", "/api/runs/", [(b"content-length", str(40 * 1024**2).encode())])
    assert status == 413
    assert json.loads(body)["error"].startswith("This upload holds 40 MB; at most 10 MB")
