"""Throttles' answers and the sign-up rule; the counting is django-axes' (sign-in) and django-ratelimit's (the rest)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited


def rate(limit: tuple[int, int]) -> str:
    """A (count, seconds) setting in django-ratelimit's words."""
    count, seconds = limit
    return f"{count}/{seconds}s"


def signup_open() -> bool:
    """Whether visitors may make an account: as SIGNUP_ENABLED says, else only while there is none."""
    if settings.SIGNUP_ENABLED is not None:
        return settings.SIGNUP_ENABLED
    return not get_user_model().objects.exists()


def _refused(request: HttpRequest, message: str, seconds: int) -> HttpResponse:
    response = render(request, "too_many.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = f"Too many failed sign-ins for this account or from this address: try again in {minutes} minutes."
    return _refused(request, message, int(settings.AXES_COOLOFF_TIME.total_seconds()))


def throttled(request: HttpRequest, group: str, key: str, limit: tuple[int, int], count: bool = True) -> int | None:
    """Seconds to wait when `key` ("ip", "user") went past `limit` in `group`, counting this request if `count`."""
    if is_ratelimited(request, group=group, key=key, rate=rate(limit), increment=count):
        return limit[1]
    return None


def too_many_json(seconds: int, what: str) -> JsonResponse:
    """The API's answer: the same refusal, in JSON."""
    response = JsonResponse({"error": f"too many {what}: try again in {seconds} s"}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def too_many(request: HttpRequest, seconds: int, what: str) -> HttpResponse:
    return _refused(request, f"Too many {what}: try again in {max(1, seconds // 60)} minutes.", seconds)
