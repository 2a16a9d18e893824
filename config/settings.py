"""Settings for 党支部星级管理, every deployment knob read from the environment.

Without any environment the project runs on embedded defaults: a SQLite file in the
project, Celery tasks executed in-process, e-mail printed to the console.
``DJANGO_ENV=production`` switches on the settings a public deployment needs.
"""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

from config.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no, got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


DJANGO_ENV = env_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be 'development' or 'production', got {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

_DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET_KEY)
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY must be set to a long random value when DJANGO_ENV=production")

DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "home.vendor_apps.SignInProtectionConfig",  # django-axes, named in Chinese
    "django_celery_beat",
    "branches",
    "scoring",
    "reviews",
    "checks",
    "rectification",
    "supervision",
    "reports",
    "directory",
    "home",
]

MIDDLEWARE = [
    # First: the request id (X-Request-ID) on every log record and answer, and the request line.
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Uploaded file names keep control characters, so that the checks refuse them (branches/uploads.py).
    "branches.uploads.KeepUploadNamesMiddleware",
    # Content-Security-Policy on every answer (the policy is under "Security" below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A session unused for SESSION_IDLE_TIMEOUT ends; sign-in and /verify/ are throttled per
    # client address (branches/middleware.py).
    "branches.middleware.IdleTimeoutMiddleware",
    "branches.middleware.AddressThrottleMiddleware",
    # A one-time password is changed before anything else (branches/middleware.py).
    "branches.middleware.ForcePasswordChangeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

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
                "django.template.context_processors.i18n",
                "branches.context_processors.navigation",
                "reports.context_processors.unread_notices",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database -------------------------------------------------------------------------
_database_url = env_str("DATABASE_URL", "")
if _database_url:
    try:
        DATABASES = {"default": dj_database_url.parse(_database_url)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
        }
    }
# Connections are kept for CONN_MAX_AGE seconds (0: one per request) and checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60 if PRODUCTION else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# No JIT compilation: a page's queries run in milliseconds, and PostgreSQL compiles any query
# its planner costs above jit_above_cost (a count over a province's 20,000 people: 190 ms of
# compiling for 20 ms of work). POSTGRES_JIT=true leaves the server's setting.
if DATABASES["default"]["ENGINE"].endswith("postgresql") and not env_bool("POSTGRES_JIT", False):
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -----------------------------------------------------------------------------------
# Sessions and the rate limits live here. Without CACHE_URL a local-memory cache of each
# process (enough for one process); with several processes or machines, a shared Redis.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"CACHE_URL must be a Redis URL such as redis://127.0.0.1:6379/1, got {CACHE_URL!r}"
        )
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.SharedClientRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "dangjian",
            # A Redis that does not answer fails a request in seconds instead of hanging it.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dangjian"}}
# Committee-wide counts kept in the cache under version stamps (branches.selectors.cached_figures,
# reach_counts): only in a cache every process shares, since a change bumps the stamp in the
# cache of the process that made it; a local-memory cache of each process would leave the other
# processes' figures stale. CACHE_FIGURES=false counts every time.
CACHE_FIGURES = env_bool("CACHE_FIGURES", bool(CACHE_URL))
# Pages kept until a table they were drawn from is written (branches/kept.py): on with the
# figures; KEEP_PAGES=false draws every page each time.
KEEP_PAGES = CACHE_FIGURES and env_bool("KEEP_PAGES", True)

# --- Authentication -----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Django's default hashers, then the cheap one for one-time passwords (branches/hashers.py):
# listed after the default, so a chosen password never uses it and a one-time hash is
# upgraded to the default at its first sign-in.
PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS, "branches.hashers.OneTimePasswordHasher"]
# At least 8 characters of three of the four classes, none of the last PASSWORD_HISTORY_COUNT
# passwords (branches/passwords.py, which also records each new one), and Django's checks.
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 8, minimum=8)
PASSWORD_HISTORY_COUNT = env_int("PASSWORD_HISTORY_COUNT", 5, minimum=1)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "branches.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "branches.passwords.PasswordHistoryValidator", "OPTIONS": {"remember": PASSWORD_HISTORY_COUNT}},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection: five failures lock the account (by user name) for a while.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The same client address as the address throttle; failed attempts are kept (AccessFailureLog)
# so that a person sees after signing in how many failed since their previous sign-in.
AXES_CLIENT_IP_CALLABLE = "branches.throttle.client_address"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The sign-in records (AccessLog, AccessFailureLog) are kept this many days, then removed by the
# daily reports.tasks.prune_sign_in_logs; 等保 2.0 asks for at least six months of such logs.
SIGN_IN_LOG_RETENTION_DAYS = env_int("SIGN_IN_LOG_RETENTION_DAYS", 400, minimum=183)

# Besides the lockout per name: SIGN_IN_ADDRESS_LIMIT failures from one client address within
# SIGN_IN_ADDRESS_WINDOW seconds refuse further attempts from it (no account is locked). The
# limit is well above AXES_FAILURE_LIMIT: a whole organization may share one intranet address.
SIGN_IN_ADDRESS_LIMIT = env_int("SIGN_IN_ADDRESS_LIMIT", 20, minimum=1)
SIGN_IN_ADDRESS_WINDOW = env_int("SIGN_IN_ADDRESS_WINDOW", 15 * 60, minimum=1)
# The public certificate verification: at most VERIFY_RATE_LIMIT requests per address per window.
VERIFY_RATE_LIMIT = env_int("VERIFY_RATE_LIMIT", 30, minimum=1)
VERIFY_RATE_WINDOW = env_int("VERIFY_RATE_WINDOW", 60, minimum=1)
# The client address is REMOTE_ADDR, unless that is one of these reverse proxies (addresses or
# networks such as 10.0.0.0/8): then the nearest X-Forwarded-For entry that is not one of them.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES must list addresses or networks such as 10.0.0.0/8, got {_proxy!r}"
        ) from None

# axes.W006 asks for IP-based lockout too. Branch secretaries often share one intranet NAT
# address, so locking by IP would lock a whole organization out; accounts are locked by
# user name instead.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
# A session unused this many seconds ends too (branches.middleware.IdleTimeoutMiddleware).
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60, minimum=60)
# Sessions are read from the cache and written through to the database; without a shared cache
# only the database, so that a sign-out in one process holds in every other one.
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if CACHE_URL else "db")
# A form refused by the CSRF check gets a page in the layout that says what to do.
CSRF_FAILURE_VIEW = "home.views_errors.csrf_failure_page"

# --- Internationalization --------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ---------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Every stored file (evidence, bulletins, import files) goes through STORAGES["default"]: an
# S3-compatible bucket when the four S3_* variables are set, else FileSystemStorage on MEDIA_ROOT.
_S3_REQUIRED = ("S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
_s3_given = [name for name in _S3_REQUIRED if env_str(name, "").strip()]
if _s3_given and len(_s3_given) < len(_S3_REQUIRED):
    _missing = ", ".join(name for name in _S3_REQUIRED if name not in _s3_given)
    raise ImproperlyConfigured(f"Object storage needs all of {', '.join(_S3_REQUIRED)}; missing: {_missing}")
_DEFAULT_STORAGE = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "endpoint_url": env_str("S3_ENDPOINT_URL").strip(),
            "bucket_name": env_str("S3_BUCKET").strip(),
            "access_key": env_str("S3_ACCESS_KEY_ID").strip(),
            "secret_key": env_str("S3_SECRET_ACCESS_KEY").strip(),
            "region_name": env_str("S3_REGION", "").strip() or "us-east-1",
            "location": env_str("S3_LOCATION", "").strip().strip("/"),
            "addressing_style": "path",
            "signature_version": "s3v4",
            "file_overwrite": False,  # a second upload of the same name gets a suffix, as on disk
            "default_acl": None,  # objects stay private: downloads go through the views
            "querystring_expire": 300,
        },
    }
    if _s3_given
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_MB", 20, minimum=1) * 1024 * 1024
EVIDENCE_MAX_FILES_PER_ITEM = env_int("EVIDENCE_MAX_FILES_PER_ITEM", 20, minimum=1)
# An archive-based upload (.docx, .xlsx) is refused when it would unpack past these limits.
ARCHIVE_MAX_UNPACKED_BYTES = env_int("ARCHIVE_MAX_UNPACKED_MB", 200, minimum=1) * 1024 * 1024
ARCHIVE_MAX_MEMBERS = env_int("ARCHIVE_MAX_MEMBERS", 10000, minimum=1)
ARCHIVE_MAX_RATIO = env_int("ARCHIVE_MAX_RATIO", 100, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- E-mail ------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "dangjian@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)

# --- Celery ----------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
if CELERY_BROKER_URL and "://" not in CELERY_BROKER_URL:
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL must be a URL such as redis://127.0.0.1:6379/0, got {CELERY_BROKER_URL!r}"
    )
# No broker: run tasks in-process so the product works without Redis.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Well below the visibility timeout, so a task never runs twice because it was slow.
CELERY_TASK_TIME_LIMIT = 1800
CELERY_TASK_SOFT_TIME_LIMIT = 1700
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Workers and beat log through LOGGING below (JSON lines in production), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# PDF rendering (WeasyPrint: long, memory-hungry) goes to a queue of its own, served by workers
# started with `-Q pdf --concurrency 1 --max-tasks-per-child N`; everything else to "celery".
# A cycle-wide operation (automatic assignment, publishing, certifying) on more assessments than
# this runs as a background job with a progress page instead of inside the request.
BULK_JOB_THRESHOLD = env_int("BULK_JOB_THRESHOLD", 500)
# A published standard never changes, so each process keeps what the pages read of it
# (scoring.selectors.standard_outline, rules_from_standard) instead of asking on every request.
CACHE_PUBLISHED_STANDARDS = env_bool("CACHE_PUBLISHED_STANDARDS", True)
CELERY_TASK_ROUTES = {
    "reports.tasks.generate_bulletin_task": {"queue": "pdf"},
    "reports.tasks.generate_year_bulletin_task": {"queue": "pdf"},
}

# --- Security ----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
# No inline script, no inline style, nothing from another origin: every script and style sheet
# is a file under static/ (tests/browser/test_csp.py walks every page and fails on a refusal).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Load balancers often probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # The preload list is an opt-in decision; it is not a flaw to leave it off.
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")

# One JSON object per line in production (LOG_FORMAT=json), a readable line in development;
# every record carries the request id, user, path and method (config/logs.py).
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'text', got {LOG_FORMAT!r}")
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=env_str("LOG_LEVEL", "INFO"),
    request_level=env_str("REQUEST_LOG_LEVEL", "INFO" if PRODUCTION else "WARNING"),
)
AUTH_USER_MODEL = "branches.User"
