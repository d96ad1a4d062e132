"""Loopdeck settings. Every value comes from the environment (see `.env.example`) with a working
local default: SQLite and media in ./data, a Redis the run command starts on a private socket."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url

from console.env import (
    SettingError,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_path,
    env_str,
    local_base_url,
    persistent_secret,
)
from console.storage_env import LOCAL as LOCAL_STORAGE
from console.storage_env import storage_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = env_path("LOOPDECK_DATA_DIR", BASE_DIR / "data")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = persistent_secret("SECRET_KEY", DATA_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_rq",
    "media_jobs",
    "console.api",
    "console.web",
    "console.process",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body, query or Host: a request id, malformed requests as 4xx,
    # and the API's JSON error shape for every failure.
    "console.api.envelope.EnvelopeMiddleware",
    # The vendors' API dialects answer at `/`: before sessions, CSRF and anything that parses the
    # body, because the signature covers the raw bytes (LOOPDECK_VENDOR_API=false turns it off).
    "console.dialects.middleware.VendorApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the signed-in user's choice (console.web.language), else the language cookie,
    # else Accept-Language (the JSON API's messages too; codes stay English).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "console.web.language.UserLanguageMiddleware",
    # Before any view or CSRF check reads a body: refuses oversized uploads from their headers.
    "console.middleware.uploads.UploadLimitMiddleware",
    # NUL in a query, form or JSON field is a named 400 (PostgreSQL cannot store or compare it).
    "console.middleware.text_input.RefuseNulMiddleware",
    # 429 at the sign-in forms after LOGIN_FAILURE_LIMIT wrong passwords (per address and name).
    "console.web.login_throttle.LoginThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

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
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'loopdeck.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", _default_db), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, workers and the reconciler write concurrently; WAL and a busy timeout keep SQLite
    # from answering "database is locked" under that load.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that worker processes started by the end-to-end tests see it; one
    # per test session, so two sessions on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"loopdeck-test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "console-login"
LOGIN_REDIRECT_URL = "console-home"
LOGOUT_REDIRECT_URL = "console-login"
# Wrong passwords allowed per client address and user name in each window (seconds).
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 900, minimum=1)

LANGUAGE_CODE = "en"
# The console's languages: the vendors' consoles our users come from are in these.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("ko", "한국어")]
# Catalogues live in ./locale as .po; the .mo files are compiled at start-up (console.web.catalogues).
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language cookie (the sign-in page's language) lasts a year, not only the browser session.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_path("STATIC_ROOT", DATA_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = env_path("MEDIA_ROOT", DATA_DIR / "media")
# Local disk, an S3-compatible bucket (STORAGE_BACKEND=s3) or any storage class (console.storage_env).
# Either way outputs reach their final name only when complete (media_jobs.storage, storage_s3).
STORAGES = {
    "default": storage_from_env(),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploads larger than this are spooled to disk by Django instead of held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# A process's own scratch space: uploads spool here, workers fetch sources and render here.
SCRATCH_DIR = env_path("LOOPDECK_SCRATCH_DIR", Path(tempfile.gettempdir()))
FILE_UPLOAD_TEMP_DIR = str(SCRATCH_DIR)
# Sources a worker fetched from object storage, kept in its scratch space for the next render
# of the same video (media_jobs/jobs/source_cache.py); 0 turns the cache off.
SOURCE_CACHE_MB = env_int("SOURCE_CACHE_MB", 4096, minimum=0)
MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE_MB", 2048, minimum=1) * 1024 * 1024
# The size limit sees each chunk before it is spooled (console.middleware.uploads).
FILE_UPLOAD_HANDLERS = [
    "console.middleware.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# With a bucket, links point at the bucket (pre-signed) and the web process serves no media.
SERVE_MEDIA = env_bool("SERVE_MEDIA", STORAGES["default"]["BACKEND"] == LOCAL_STORAGE)

# Redis: without REDIS_URL, the run command starts a private Redis on this socket.
REDIS_SOCKET = DATA_DIR / "redis.sock"
REDIS_URL = env_str("REDIS_URL", f"unix://{REDIS_SOCKET}?db=0")
if len(str(REDIS_SOCKET)) > 100 and "REDIS_URL" not in os.environ:
    raise SettingError(f"LOOPDECK_DATA_DIR path is too long for a Unix socket: {REDIS_SOCKET}")

RENDER_TIMEOUT = env_int("RENDER_TIMEOUT", 900, minimum=10)
RENDER_MEMORY_LIMIT_MB = env_int("RENDER_MEMORY_LIMIT_MB", 3072, minimum=256)
PROBE_TIMEOUT = env_int("PROBE_TIMEOUT", 60, minimum=5)
# A render whose worker has not reported for this long is considered lost (the job heartbeats
# every HEARTBEAT_INTERVAL while it runs).
HEARTBEAT_INTERVAL = env_float("HEARTBEAT_INTERVAL", 5, minimum=0.5)
HEARTBEAT_STALE_AFTER = env_float("HEARTBEAT_STALE_AFTER", 30, minimum=2)
RECONCILE_INTERVAL = env_float("RECONCILE_INTERVAL", 10, minimum=0.5)
MAX_RENDER_ATTEMPTS = env_int("MAX_RENDER_ATTEMPTS", 3, minimum=1)

RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": RENDER_TIMEOUT + 120}
    for name in ("encode", "light", "callbacks")
}
# The worker class sweeps the scratch folders of killed jobs when it starts (media_jobs/scratch.py).
RQ = {"COMMIT_MODE": "on_db_commit", "WORKER_CLASS": "media_jobs.jobs.worker.Worker"}
RQ_SHOW_ADMIN_LINK = True

# HTTPS. Off by default so `python3 run.py` works over http://127.0.0.1; production turns them on
# (README: "Production settings"); `manage.py check --deploy` then passes.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The console's script reads the token from the form, never from the cookie.
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Asking browsers to preload HSTS is a per-domain commitment (hstspreload.org) an operator makes
# on purpose, not a default: the deploy check does not ask for it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Behind a TLS-terminating proxy: the header it sets, e.g. X-Forwarded-Proto (only if the proxy
# always sets or strips it; a client could otherwise claim https).
_proxy_header = env_str("SECURE_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https") if _proxy_header else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Error reports (DEBUG pages, mailed 500s) also hide passwords inside URL settings (REDIS_URL).
DEFAULT_EXCEPTION_REPORTER_FILTER = "console.redact.SafeReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# JSON API and outbound requests (URL imports; callbacks reuse the same address rules).
# Private, loopback and link-local addresses are refused unless this is true (tests, closed networks).
ALLOW_PRIVATE_ADDRESSES = env_bool("ALLOW_PRIVATE_ADDRESSES", False)
URL_DOWNLOAD_TIMEOUT = env_float("URL_DOWNLOAD_TIMEOUT", 30, minimum=1)
URL_DOWNLOAD_TOTAL_TIMEOUT = env_float("URL_DOWNLOAD_TOTAL_TIMEOUT", 1800, minimum=5)
# Requests per API key per sliding window (counted in Redis); 0 turns the limit off.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 600, minimum=0)
API_RATE_WINDOW = env_int("API_RATE_WINDOW", 60, minimum=1)
# The vendor dialects (Tencent / Alibaba SDK calls at `/` of the host, console.dialects).
VENDOR_API = env_bool("LOOPDECK_VENDOR_API", True)
# The OSS-style endpoint answers virtual-host requests for <bucket>.<this host> (path style
# /<bucket>/<object> always works, with any host).
OSS_HOST = env_str("LOOPDECK_OSS_HOST", "")
# Access key secrets are encrypted at rest under a key derived from this (default: SECRET_KEY).
ACCESS_KEY_ENCRYPTION_KEY = env_str("ACCESS_KEY_ENCRYPTION_KEY", "")
# A signed timestamp may differ from this machine's clock by at most this much (both vendors: 5 min).
VENDOR_API_CLOCK_SKEW = env_int("VENDOR_API_CLOCK_SKEW", 300, minimum=1)
# How long a vendor's SessionId de-duplicates a ProcessMedia (Tencent: 3 days).
VENDOR_SESSION_DAYS = env_int("VENDOR_SESSION_DAYS", 3, minimum=1)
# How long an Idempotency-Key is remembered.
API_IDEMPOTENCY_TTL_HOURS = env_int("API_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)

# Event notifications (push callbacks and the pull queue).
# Absolute URLs in event payloads start with this (FileUrl, Output.Url, FileURL).
# Unset, it follows the address `manage.py serve` listens on (LOOPDECK_HOST / LOOPDECK_PORT).
PUBLIC_BASE_URL = env_str(
    "PUBLIC_BASE_URL", local_base_url(os.environ.get("LOOPDECK_HOST"), os.environ.get("LOOPDECK_PORT"))
).rstrip("/")
# Each callback POST must answer within this many seconds (connect and each read).
CALLBACK_TIMEOUT = env_float("CALLBACK_TIMEOUT", 5, minimum=0.1)
# Seconds to wait before each retry of a failed delivery; after the last one it is FAILED.
try:
    CALLBACK_RETRY_SCHEDULE = [
        float(s) for s in env_list("CALLBACK_RETRY_SCHEDULE", "10,30,120,600,1800,3600,10800,21600,43200,86400".split(","))
    ]
except ValueError as exc:
    raise SettingError(f"CALLBACK_RETRY_SCHEDULE must list seconds separated by commas: {exc}") from exc
# A receiver's Retry-After is honoured up to this many seconds.
CALLBACK_RETRY_AFTER_MAX = env_float("CALLBACK_RETRY_AFTER_MAX", 21600, minimum=0)
# After a secret rotation the old secret keeps signing (beside the new one) for this long.
CALLBACK_SECRET_OVERLAP_HOURS = env_float("CALLBACK_SECRET_OVERLAP_HOURS", 24, minimum=0)
# Pulled events not confirmed within this many seconds become pullable again.
PULL_CONFIRM_TIMEOUT = env_float("PULL_CONFIRM_TIMEOUT", 30, minimum=0.1)
# Events (and their delivery logs) are kept this long, then purged by the reconciler.
EVENT_RETENTION_DAYS = env_float("EVENT_RETENTION_DAYS", 4, minimum=0.01)
