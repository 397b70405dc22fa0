from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {
        "signup_enabled": settings.SIGNUP_ENABLED,
        "upload_max_files": settings.UPLOAD_MAX_FILES,
        "upload_max_bytes": settings.UPLOAD_MAX_BYTES,
        "upload_max_mb": settings.UPLOAD_MAX_BYTES // 1024**2,
    }
