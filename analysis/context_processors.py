from django.conf import settings
from django.http import HttpRequest

from analysis.throttling import signup_open


def site(request: HttpRequest) -> dict:
    return {
        "signup_enabled": signup_open(),
        "upload_max_files": settings.UPLOAD_MAX_FILES,
        "upload_max_bytes": settings.UPLOAD_MAX_BYTES,
        "upload_max_mb": settings.UPLOAD_MAX_BYTES // 1024**2,
    }
