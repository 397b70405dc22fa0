from asgiref.testing import ApplicationCommunicator

from deepchecker_site.asgi import application


async def request(method: str, path: str, headers: list | None = None, chunks: tuple[bytes, ...] = (b"",)):
    """(status, body) of one HTTP request through the whole ASGI application, the body sent in chunks."""
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *(headers or [])],
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
