import pytest
from asgiref.testing import ApplicationCommunicator

from deepchecker_site.asgi import application


async def post(headers: list, chunks: list[bytes]) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }
    communicator = ApplicationCommunicator(application, scope)
    for number, chunk in enumerate(chunks, start=1):
        await communicator.send_input({"type": "http.request", "body": chunk, "more_body": number < len(chunks)})
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
async def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(settings):
    settings.UPLOAD_MAX_BYTES = 10 * 1024**2
    status, body = await post([(b"content-length", str(40 * 1024**2).encode())], [b""])
    assert status == 413
    # the element where the upload form shows its errors
    assert body.startswith(
        b'<div id="upload-errors" role="alert"><p class="error">This upload holds 40 MB; at most 10 MB'
    )


@pytest.mark.django_db(transaction=True)
async def test_a_body_within_the_limit_reaches_django(settings):
    settings.UPLOAD_MAX_BYTES = 10 * 1024**2
    status, body = await post([(b"content-length", b"5")], [b"a=b&c"])
    assert status == 403  # Django's CSRF check answered
