import json
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape

API_PREFIX = "/api/"
API_ERRORS = {
    404: "not found: there is no such resource, or it is not yours",
    405: "method not allowed here; allowed: {allow}",
    500: "the server failed to answer; the error is in its log",
}


def api_errors(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Every error under /api/ as JSON with a message, whatever raised it and whether DEBUG is on: a program
    should never have to parse an HTML page."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        message = API_ERRORS.get(status, HTTPStatus(status).phrase.lower()).format(allow=response.get("Allow", ""))
        answer = JsonResponse({"error": message}, status=status)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                answer[header] = response[header]
        return answer

    return middleware


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
            return await self._refuse(scope, send, int(declared))
        received, started = 0, False

        async def counted_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            # a body without a declared length that runs past the limit: stop reading, as if the client left
            return {"type": "http.disconnect"} if received > limit else message

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted_receive, watched_send)
        if received > limit and not started:  # the application stopped reading without an answer: this is it
            await self._refuse(scope, send, received)

    async def _refuse(self, scope, send, size: int) -> None:
        message = (
            f"This upload holds {size / 1024**2:.0f} MB; at most {settings.UPLOAD_MAX_BYTES // 1024**2} MB "
            "can be analysed at once. Split it into several analyses."
        )
        if scope["path"].startswith(API_PREFIX):
            body, kind = json.dumps({"error": message}).encode(), b"application/json"
        else:  # the element the upload form swaps its errors into
            body = f'<div id="upload-errors" role="alert"><p class="error">{escape(message)}</p></div>'.encode()
            kind = b"text/html; charset=utf-8"
        # closing the connection stops the rest of the body: it is not read, only refused
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
