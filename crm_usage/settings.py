"""Settings, driven by environment variables.

Development needs no variable at all: SQLite in ``db.sqlite3`` and Celery tasks run in-process.
Production is ``DJANGO_DEBUG=false``; it then refuses to start without a real secret key and an
explicit host list (``ImproperlyConfigured`` says which variable is missing), and turns on the
HTTPS hardening that ``manage.py check --deploy`` asks for.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(key: str, default: str = "") -> str:
    return os.environ.get(key, default)


def env_bool(key: str, default: bool) -> bool:
    raw = os.environ.get(key)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{key} must be true or false, not {raw!r}.")


def env_int(key: str, default: int) -> int:
    raw = os.environ.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{key} must be an integer, not {raw!r}.") from exc


def env_list(key: str, default: list[str]) -> list[str]:
    raw = os.environ.get(key)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
# Tests and the CI deploy check set this so that production settings can be exercised.
PRODUCTION = not DEBUG

_DEV_SECRET = "django-insecure-development-only-key-do-not-use-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random string of at least 50 characters when "
        "DJANGO_DEBUG=false (generate one with: python -c 'import secrets; "
        "print(secrets.token_urlsafe(64))')."
    )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must list the host names this server answers to (comma-separated) "
        "when DJANGO_DEBUG=false."
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Third party. Note: django-chartjs is used only for its view classes; it is deliberately not
    # installed as an app because its bundled static files are Chart.js 2 and non-free Highcharts.
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # Ours
    "tenancy",
    "events",
    "records",
    "core",
    "views_home",
    "funnels",
    "useranalysis",
    "behaviour",
    "accounts",
    "sales",
    "perception",
    "adoption",
    "reports",
    "dashboards",
    "alerts",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # Serves collected static files from gunicorn; in development runserver serves them itself.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "crm_usage.urls"
WSGI_APPLICATION = "crm_usage.wsgi.application"

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
            ],
        },
    },
]

# Database: SQLite by default (zero set-up); PostgreSQL via DATABASE_URL in production and CI.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while an import or a rollup refresh writes; the timeout makes a
    # writer wait for the lock instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A covering index's extra columns (INCLUDE) are a PostgreSQL speed-up; SQLite builds the same
    # index without them, which is what it should do.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Every server-side cursor here streams a whole result (the walks over raw events, CSV exports):
    # plan for all rows, not for the fast first 10 % PostgreSQL assumes of a cursor by default (a
    # funnel's candidate events: 182 → 90 ms at 1M).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c cursor_tuple_fraction=1".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login brute-force protection (django-axes): after AXES_FAILURE_LIMIT failures for one username
# *from one IP address*, that pair is locked for the cool-off time. Keying on the pair means an
# attacker elsewhere cannot lock the real user out, and the lock always expires.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind N reverse proxies, the client address is the N-th from the right in X-Forwarded-For.
# Proxies in front of the web processes that append to X-Forwarded-For (a TLS terminator, a load
# balancer): with 0, every client is the address that connects; behind one proxy, set 1, or every
# client would share the proxy's address for lock-outs and rate limits. AXES_PROXY_COUNT: old name.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", env_int("AXES_PROXY_COUNT", 0))
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# Content Security Policy (Django's built-in middleware): only our own scripts, styles and images;
# pages keep their JavaScript in static files and their data in JSON blocks, so no inline script or
# style is needed anywhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["crm_usage.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Cache: Redis when configured (shared across processes, needed for rate limits later), else local.
REDIS_CACHE_URL = env_str("REDIS_CACHE_URL")
CACHES: dict[str, Any] = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}
        if REDIS_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: with no broker configured tasks run in-process (eager), so development needs no server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# After a rollup refresh, saved funnels and filter sets may be computed ahead, so that their first
# view is a cache read. That is a worker's job: in-process (no broker) the refresh runs inside the
# ingest request, which must not pay for it, so stale results are only marked and compute on their
# first view. At most PRECOMPUTE_LIMIT of each are computed per refresh (the most recently changed);
# the others compute on demand.
PRECOMPUTE_AFTER_REFRESH = env_bool("PRECOMPUTE_AFTER_REFRESH", bool(CELERY_BROKER_URL))
PRECOMPUTE_LIMIT = env_int("PRECOMPUTE_LIMIT", 50)
# Results are kept only where a chord needs them (the rollup rebuild fanned out over workers waits
# for its chunks); every other task ignores its result.
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or CELERY_BROKER_URL or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
# Rollup tasks recompute whole days: re-running one after a crash is safe (idempotent), so
# acknowledge only when done and never prefetch a second long task behind a running one.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Ingestion must not hang when Redis is down: fail the publish fast; the periodic sweep catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE = {
    # Safety net: refresh any (workspace, day) left dirty because an enqueue was lost.
    "sweep-dirty-rollups": {
        "task": "events.tasks.sweep_dirty_days_task",
        "schedule": env_int("ROLLUP_SWEEP_SECONDS", 300),
    },
    # The same for the CRM records' aggregates.
    "sweep-dirty-record-figures": {
        "task": "records.tasks.sweep_records_dirty_task",
        "schedule": env_int("ROLLUP_SWEEP_SECONDS", 300),
    },
    # Feedback whose labelling was never enqueued (a broker outage) or never finished.
    "sweep-unlabelled-feedback": {
        "task": "records.tasks.sweep_unlabelled_feedback_task",
        "schedule": env_int("ROLLUP_SWEEP_SECONDS", 300),
    },
    "apply-raw-event-retention": {"task": "events.tasks.apply_retention_task", "schedule": 6 * 3600},
    # PostgreSQL: next month's events partition ahead of time (ingestion also creates them as needed).
    "maintain-event-partitions": {"task": "events.tasks.maintain_event_partitions_task", "schedule": 6 * 3600},
    # Alerts due now (each once per clock hour or local day, however often this runs): docs/alerts.md.
    "evaluate-alerts": {
        "task": "alerts.tasks.evaluate_alerts_task",
        "schedule": env_int("ALERT_EVALUATE_SECONDS", 300),
    },
    # Scheduled reports: each schedule's latest slot, once (a slot is at most 10 minutes late).
    "send-scheduled-reports": {"task": "reports.tasks.send_scheduled_reports_task", "schedule": 600},
}

# Email (alerts, scheduled reports; README "Email"): the console in development, SMTP in
# production. DJANGO_EMAIL_BACKEND takes a short name (console, file, smtp, locmem) or a dotted path.
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_backend = env_str("DJANGO_EMAIL_BACKEND", "smtp" if PRODUCTION else "console")
_email_options: dict[str, Any] = {}
if _email_backend == "file":
    _email_options = {"file_path": env_str("DJANGO_EMAIL_FILE_PATH", str(BASE_DIR / "sent-emails"))}
elif _email_backend == "smtp":
    _email_options = {
        "host": env_str("DJANGO_EMAIL_HOST", "localhost"),
        "port": env_int("DJANGO_EMAIL_PORT", 25),
        "username": env_str("DJANGO_EMAIL_HOST_USER"),
        "password": env_str("DJANGO_EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", False),
        "use_ssl": env_bool("DJANGO_EMAIL_USE_SSL", False),
        "timeout": env_int("DJANGO_EMAIL_TIMEOUT", 30),
    }
MAILERS = {"default": {"BACKEND": _EMAIL_BACKENDS.get(_email_backend, _email_backend), "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "CRM Usage Metrics <noreply@localhost>")
# The start of every link in an email (share links, unsubscribe, the alert's page): no request there.
SITE_URL = env_str("DJANGO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# An alert's webhook may not reach a loopback, private or link-local address (SSRF) unless allowed.
ALERT_WEBHOOK_ALLOW_PRIVATE = env_bool("DJANGO_ALERT_WEBHOOK_ALLOW_PRIVATE", False)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenancy.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON nested past a limit is a 400 (core.api.parsers), never a RecursionError.
    # The API is JSON only (docs/api.md): a form body could not carry a funnel's steps or a filter
    # set's conditions anyway, and the schema then documents the one body type that works.
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "crm_usage.api.exception_handler",
    # Per API token (or browser session); the ingest endpoints use a per-ingest-key rate instead.
    # Counted in the default cache: set REDIS_CACHE_URL so that limits hold across processes.
    "DEFAULT_THROTTLE_CLASSES": ["tenancy.api.throttling.ApiTokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api": env_str("API_RATE_LIMIT", "600/min"),
        "ingest": env_str("INGEST_RATE_LIMIT", "6000/min"),
        # Wrong tokens or ingest keys per client address; then a 429 until the window passes.
        "auth_failure": env_str("AUTH_FAILURE_RATE", "30/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "core.api.parsers.CheckedPagination",
    # The client's address for rate limits: the one the trusted proxies saw (X-Forwarded-For).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT or None,
    "PAGE_SIZE": 50,
}

REST_KNOX = {
    "TOKEN_TTL": None,  # every token is created with an explicit expiry (default 90 days)
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_PREFIX": "cum_",
}
API_TOKEN_DEFAULT_DAYS = 90

SPECTACULAR_SETTINGS = {
    "TITLE": "CRM Usage Metrics API",
    "DESCRIPTION": "Send CRM usage events and read usage metrics. The contract, in words: docs/api.md in the repository.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from the drf-spectacular-sidecar package: the docs work offline, with no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm_usage.schema.add_error_responses",
        "crm_usage.schema.add_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "VisibilityEnum": "tenancy.models.SavedConfig.Visibility",
        # The alerts' "interval" and "state" beside other fields of those names (the schema names each set).
        "IntervalEnum": [("day", "day"), ("week", "week"), ("month", "month")],
        "AlertIntervalEnum": "alerts.models.Alert.Interval",
        "AlertStateEnum": "alerts.models.Alert.State",
    },
}

# Ingestion limits (docs/api.md#ingestion).
INGEST_MAX_BODY_BYTES = 1024 * 1024
INGEST_MAX_EVENTS = 1000
INGEST_MAX_USERS = 1000
INGEST_MAX_PROPERTIES_BYTES = 8 * 1024
# Django refuses larger bodies with an HTML 400 before our views run; the ingest views read the
# stream themselves and answer 413 in JSON, so leave Django's limit above ours.
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Production hardening (``manage.py check --deploy``). Behind a TLS-terminating proxy set
# DJANGO_SECURE_PROXY_SSL_HEADER=true so Django knows the original request was HTTPS.
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies are only accepted over HTTPS, for this exact host, with Path=/: a subdomain
    # cannot plant or read them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SESSION_COOKIE_SAMESITE = "Lax"
    SECURE_CONTENT_TYPE_NOSNIFF = True
    if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
