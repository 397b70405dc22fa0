"""DeepChecker settings: one module, read from the environment, working with nothing set.

Every variable is listed in .env.example.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from deepchecker_site.redis_hosts import channel_layer_host

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool | None) -> bool | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envsecret(name: str) -> str | None:
    """The variable itself, or the contents of the file named by NAME_FILE."""
    if os.environ.get(name):
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    return Path(path).read_text().strip() if path else None


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return [part.strip() for part in value.split(",") if part.strip()] if value else default


def system_time_zone() -> str:
    """The machine's time zone as its IANA name, where /etc/localtime says it; else UTC."""
    target = str(Path("/etc/localtime").resolve())
    return target.split("/zoneinfo/", 1)[1] if "/zoneinfo/" in target else "UTC"


def local_secret(path: Path) -> str:
    """A secret made once on this machine and kept in `path`, readable by its owner only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()  # made before, or by a process starting beside this one
    with os.fdopen(descriptor, "w") as out:
        out.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = envbool("DEBUG", False)
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data"))
# without SECRET_KEY or SECRET_KEY_FILE (one machine, `make run`, the command line): a secret of this machine's
# own in the data folder; processes on several machines must share one, set in their environment
SECRET_KEY = envsecret("SECRET_KEY") or local_secret(DATA_DIR / "secret_key")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# Served over HTTPS (directly or behind a proxy that sets X-Forwarded-Proto): secure cookies, redirects, HSTS.
HTTPS = envbool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = envint("HSTS_SECONDS", 31536000 if HTTPS else 0)
# each a decision of its own: subdomains and browsers' preload lists are hard to take back
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("HSTS_PRELOAD", False)
if envbool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "analysis.middleware.api_errors",
]

# Content-Security-Policy (django-csp): scripts, styles, pictures and connections (the websocket) from this site
# only; no inline script, handler or style element; not framed. The downloaded report embeds its pictures as data.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],  # blob: the upload page's previews of the chosen files
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

ROOT_URLCONF = "deepchecker_site.urls"
ASGI_APPLICATION = "deepchecker_site.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "analysis.context_processors.site",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):  # postgres://user:password@host:5432/name for web processes and workers
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # the web process and the worker write at the same time: readers must not block the writer
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if os.environ.get("REDIS_URL"):  # shared by web processes and workers on other machines
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [channel_layer_host(os.environ["REDIS_URL"])],
                "capacity": 200,
                "expiry": 30,
            },
        }
    }
    # the throttles' counts, shared by every web process
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}  # one web process

# Throttles, answered with 429 and Retry-After. Sign-in (django-axes): an account, or an address, that failed
# SIGNIN_FAILURES times is locked out for SIGNIN_LOCKOUT_MINUTES, whatever the password then; the admin's too.
AXES_FAILURE_LIMIT = envint("SIGNIN_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("SIGNIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "analysis.throttling.locked_out"
AXES_VERBOSE = False
# Others (django-ratelimit): (count, seconds) per address or per user
SIGNUPS_PER_ADDRESS = (envint("SIGNUPS_PER_HOUR", 3), 3600)
API_KEY_FAILURES_PER_ADDRESS = (envint("API_KEY_FAILURES_PER_MINUTE", 10), 60)
SUBMISSIONS_PER_USER = (envint("SUBMISSIONS_PER_HOUR", 60), 3600)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "upload"
LOGOUT_REDIRECT_URL = "login"
# Unset: sign-up is open only until the first account exists, which becomes the administrator; later accounts
# are made by an administrator (admin, createsuperuser), so that nobody multiplies their quotas by signing up
# again. 1: anyone may sign up (throttled per address); 0: never.
SIGNUP_ENABLED = envbool("SIGNUP_ENABLED", None)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# times are shown (pages, reports) in the server's zone unless TIME_ZONE names another
TIME_ZONE = os.environ.get("TIME_ZONE") or system_time_zone()
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))  # never served directly: views check the owner

UPLOAD_MAX_FILES = envint("UPLOAD_MAX_FILES", 1000)
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_BYTES", 2 * 1024**3)
# Django's own cap, a safety net behind the form's exact check
DATA_UPLOAD_MAX_NUMBER_FILES = 2 * UPLOAD_MAX_FILES
# Per user: analyses waiting or running at once, analyses kept, and bytes of uploads kept.
USER_MAX_ACTIVE_RUNS = envint("USER_MAX_ACTIVE_RUNS", 3)
USER_MAX_RUNS = envint("USER_MAX_RUNS", 500)
USER_QUOTA_BYTES = envint("USER_QUOTA_BYTES", 20 * 1024**3)

# The detection engine (analysis/engine); see README "Thresholds" for the verdict settings.
CLIP_MODELS = ["ViT-B-32", "ViT-B-16", "ViT-L-14"]  # offered on the upload page
CLIP_MODEL = os.environ.get("CLIP_MODEL", "ViT-B-32")
CLIP_WEIGHTS = os.environ.get("CLIP_WEIGHTS") or None  # a local weights file; else the pretrained tag
CLIP_CACHE_DIR = os.environ.get("CLIP_CACHE_DIR", str(DATA_DIR / "clip"))
ENGINE_WORKERS = envint("ENGINE_WORKERS", 0)  # 0: one per CPU core

# Workers hold a run by a lease that they renew; a run whose lease ran out is taken by another worker.
JOB_LEASE_SECONDS = envint("JOB_LEASE_SECONDS", 30)
JOB_MAX_ATTEMPTS = envint("JOB_MAX_ATTEMPTS", 3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # the PDF report's renderer narrates every step and font table at INFO, and faiss every CPU build it tries
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools", "faiss")},
}
