from django.conf import settings
from django.utils.html import escape


class RequestSizeLimit:
    """ASGI middleware: refuses a request body larger than an upload may be, before Django spools it to disk."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # the files, plus room for the multipart headers of each and the form's other fields
        limit = settings.UPLOAD_MAX_BYTES + 1024 * settings.UPLOAD_MAX_FILES + 1024**2
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await self._refuse(send, int(declared))
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            # a body without a declared length that runs past the limit: stop reading, as if the client left
            return {"type": "http.disconnect"} if received > limit else message

        return await self.app(scope, counted_receive, send)

    async def _refuse(self, send, size: int) -> None:
        message = (
            f"This upload holds {size / 1024**2:.0f} MB; at most {settings.UPLOAD_MAX_BYTES // 1024**2} MB "
            "can be analysed at once. Split it into several analyses."
        )
        # the element the upload form swaps its errors into
        body = f'<div id="upload-errors" role="alert"><p class="error">{escape(message)}</p></div>'.encode()
        headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
