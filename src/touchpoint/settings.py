"""Django settings for Touchpoint.

Everything a host needs to change comes from the environment (see docs/operations.md):
DATABASE_URL, SECRET_KEY, ALLOWED_HOSTS, DEBUG, EMAIL_URL, TOUCHPOINT_DATA_DIR, TOUCHPOINT_CURRENCY,
STRIPE_WEBHOOK_SECRET.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("TOUCHPOINT_DATA_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data folder.

    A laptop install must survive restarts without logging everyone out, and must never ship
    a key that is the same on every machine.
    """
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    # Sign-in lockout (django-axes) and the TOTP second factor (django-otp): docs/operations.md,
    # "Access and security".
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "touchpoint.users",
    "touchpoint.events",
    "touchpoint.accounts",
    "touchpoint.success",
    "touchpoint.plans",
    "touchpoint.usage",
    "touchpoint.revenue",
    "touchpoint.integrations",
    "touchpoint.scheduler",
    "touchpoint.health",
    "touchpoint.tasks",
    "touchpoint.playbooks",
    # Before home: its demo step must see the journeys step to run after it.
    "touchpoint.journeys",
    # The voice of the customer and support (issue 16); before home, whose alerts step must run
    # after their demo events.
    "touchpoint.surveys",
    "touchpoint.support",
    "touchpoint.feature_requests",
    "touchpoint.advocacy",
    "touchpoint.home",
    # After the apps whose journeys, playbooks and milestones serve its touchpoints (its demo links them).
    "touchpoint.readiness",
    # Backups, restores, /healthz and the worker's heartbeat (issue 17).
    "touchpoint.operations",
    # Personal data export and erasure (issue 17); its holders register from each app's privacy.py.
    "touchpoint.privacy",
    "touchpoint.web",
    "touchpoint.demo",
]

MIDDLEWARE = [
    # First: it times and logs everything below it, and gives each request its id.
    "touchpoint.operations.middleware.RequestObservationMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "touchpoint.operations.middleware.NoStoreMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "touchpoint.users.two_factor.TwoFactorMiddleware",
    "touchpoint.users.ratelimit.RateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "touchpoint.urls"

# One permission check, `user.has_perm(perm, obj)`: django-rules answers from what each app declares
# in its rules.py (see touchpoint.users.permissions); ModelBackend signs people in and answers the
# Django admin from the role groups, which follow the same declarations.
# LockoutBackend (django-axes) first: a locked-out account or address is refused before any password check.
AUTHENTICATION_BACKENDS = [
    "touchpoint.users.access.LockoutBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
WSGI_APPLICATION = "touchpoint.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "touchpoint.web.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# SQLite by default (zero set-up); PostgreSQL with DATABASE_URL=postgres://user:pass@host/db.
DEFAULT_SQLITE_PATH = DATA_DIR / "touchpoint.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# How long a write waits for a lock before giving up (the tracking API then answers 503 + Retry-After).
DB_LOCK_TIMEOUT = float(os.environ.get("DB_LOCK_TIMEOUT", "30"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c lock_timeout={int(DB_LOCK_TIMEOUT * 1000)}"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on busy_timeout instead of failing with "database is locked" mid-transaction.
    # synchronous=NORMAL: a commit survives the process being killed (not a power cut before the
    # next checkpoint). Checkpoints every ~40 MB of WAL, a 64 MB page cache and memory-mapped reads
    # keep the per-commit cost of ingestion low (measured: +25% events/s over the defaults).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            f"PRAGMA busy_timeout={int(DB_LOCK_TIMEOUT * 1000)}; "
            "PRAGMA wal_autocheckpoint=10000; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": DB_LOCK_TIMEOUT,
    }
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# /healthz: how long its `SELECT 1` may take, and how old the workers' latest heartbeat may be before
# it reports the worker "late" (a 503 only with ?strict=1).
HEALTH_DB_TIMEOUT = float(os.environ.get("HEALTH_DB_TIMEOUT", "2"))
WORKER_LATE_SECONDS = int(os.environ.get("WORKER_LATE_SECONDS", "300"))

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # the first page of the navigation (web/views.py)
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- HTTPS and the reverse proxy (docs/operations.md, "Behind a reverse proxy") ------------------
# TOUCHPOINT_HTTPS=1 when people reach Touchpoint over HTTPS (normally through nginx or Caddy): plain
# HTTP is redirected, cookies are sent over HTTPS only, and browsers are told to keep to HTTPS (HSTS).
TOUCHPOINT_HTTPS = _env_bool("TOUCHPOINT_HTTPS", False)
SECURE_SSL_REDIRECT = TOUCHPOINT_HTTPS
# Load balancers, the tracking SDKs of servers inside the network and Prometheus may speak plain HTTP
# to Touchpoint itself: a redirect would break them (a POST does not follow one) without protecting
# anything (the request has already been sent). Paths are matched without the leading slash.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$", r"^v1/"]
SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", TOUCHPOINT_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(
    os.environ.get("TOUCHPOINT_HSTS_SECONDS", str(365 * 24 * 3600) if TOUCHPOINT_HTTPS else "0")
)
# Opt-in: both bind every subdomain (and, for preload, browsers' built-in lists) to HTTPS for long.
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("TOUCHPOINT_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("TOUCHPOINT_HSTS_PRELOAD", False)
# The header the proxy sets to say the visitor came over HTTPS, e.g. X-Forwarded-Proto. Off unless
# set: without a proxy that overwrites it, anyone could send it and pass for HTTPS.
_FORWARDED_PROTO_HEADER = os.environ.get("TOUCHPOINT_FORWARDED_PROTO_HEADER", "").strip()
if _FORWARDED_PROTO_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _FORWARDED_PROTO_HEADER.upper().replace("-", "_"), "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# `check --deploy` asks for HSTS on every subdomain and for the browsers' preload list. Both bind the
# whole domain (other hosts under it, for months, beyond undoing by us), which only its owner can
# decide: they stay opt-in (the two settings above), so their reminders are silenced here.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Access and security (docs/operations.md) ---------------------------------------------------
# The client address: REMOTE_ADDR, unless TOUCHPOINT_TRUSTED_PROXIES says how many reverse proxies
# in front of Touchpoint append to X-Forwarded-For (then the address that many hops from the right).
TOUCHPOINT_TRUSTED_PROXIES = int(os.environ.get("TOUCHPOINT_TRUSTED_PROXIES", "0"))
# Sign-in lockout: after LOGIN_FAILURE_LIMIT failures for one account or from one address, sign-in is
# refused for LOGIN_COOLOFF_MINUTES, doubling with every further LOGIN_FAILURE_LIMIT failures (at most
# a day), even with the right password.
AXES_FAILURE_LIMIT = int(os.environ.get("TOUCHPOINT_LOGIN_FAILURE_LIMIT", "5"))
TOUCHPOINT_LOGIN_COOLOFF_MINUTES = float(os.environ.get("TOUCHPOINT_LOGIN_COOLOFF_MINUTES", "5"))
AXES_COOLOFF_TIME = "touchpoint.users.access.cool_off"
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "touchpoint.users.access.client_ip"
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "touchpoint.users.access.username_of"
AXES_LOCKOUT_CALLABLE = "touchpoint.users.access.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Each stored failure expires after the cool-off it caused (so one account's long lockout is not
# cleared by another's short one).
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_VERBOSE = False
# TOTP second factor: admins must set one up first when this is on.
TOUCHPOINT_REQUIRE_2FA_FOR_ADMINS = _env_bool("TOUCHPOINT_REQUIRE_2FA_FOR_ADMINS", False)
OTP_TOTP_ISSUER = "Touchpoint"
# API and tracking rate limits: requests per minute per API key / write key, and per client address
# for calls without a key (0 turns a limit off). The tracking default lets bench/ingest.py run unthrottled.
TOUCHPOINT_API_RATE_LIMIT = int(os.environ.get("TOUCHPOINT_API_RATE_LIMIT", "1200"))
TOUCHPOINT_TRACKING_RATE_LIMIT = int(os.environ.get("TOUCHPOINT_TRACKING_RATE_LIMIT", "12000"))
TOUCHPOINT_ANONYMOUS_RATE_LIMIT = int(os.environ.get("TOUCHPOINT_ANONYMOUS_RATE_LIMIT", "600"))

# --- Languages --------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("ja", _("Japanese")),
    ("ru", _("Russian")),
    ("th", _("Thai")),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# One date format per language on every page: touchpoint/formats/<language>/formats.py.
FORMAT_MODULE_PATH = ["touchpoint.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")

# Background tasks: a database queue served by `touchpoint worker` (which `touchpoint serve` starts too).
TASKS = {
    "default": {"BACKEND": os.environ.get("TOUCHPOINT_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}
}

# How often each worker brings the usage rollups up to date with newly ingested events.
# Backpressure: past this many usage events waiting for the rollups, the tracking API answers 503 with
# Retry-After (Segment's clients retry) and stores nothing of the batch. 0 turns it off.
TOUCHPOINT_INGEST_BACKLOG_LIMIT = int(os.environ.get("TOUCHPOINT_INGEST_BACKLOG_LIMIT", "1000000"))
USAGE_ROLLUP_REFRESH_SECONDS = float(os.environ.get("USAGE_ROLLUP_REFRESH_SECONDS", "0.5"))

# How many days of raw tracking events to keep (0: all); a daily job deletes older ones, whose daily
# rollups stay (usage/retention.py). Deleted in chunks of this many rows, one short transaction each.
RAW_EVENT_RETENTION_DAYS = int(os.environ.get("RAW_EVENT_RETENTION_DAYS", "0"))
RAW_EVENT_RETENTION_CHUNK = int(os.environ.get("RAW_EVENT_RETENTION_CHUNK", "5000"))

# How long domain events (touchpoint.events) are kept; a daily job deletes older ones.
DOMAIN_EVENT_RETENTION_DAYS = int(os.environ.get("DOMAIN_EVENT_RETENTION_DAYS", "365"))

# Revenue metrics add up movements in one currency: this one (ISO code). Rates to it: Exchange rates.
TOUCHPOINT_CURRENCY = os.environ.get("TOUCHPOINT_CURRENCY", "USD").upper()
# Stripe webhook signing secrets (whsec_…), comma-separated: any of them may sign (secret rotation).
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
USE_THOUSAND_SEPARATOR = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders too, so `touchpoint serve` works without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "touchpoint@localhost")
# Where people open Touchpoint: links in emails (the daily digest) start with it.
TOUCHPOINT_BASE_URL = os.environ.get("TOUCHPOINT_BASE_URL", "http://localhost:8000").rstrip("/")

# `touchpoint serve` loads the charts' libraries as it starts (touchpoint.web.warm), so the first chart
# page after a restart does not wait ~1.5 s for them. Off for a server that only takes in events.
TOUCHPOINT_WARM_CHARTS = _env_bool("TOUCHPOINT_WARM_CHARTS", True)
# Where a chart renderer listens (touchpoint.web.chart_renderer): `touchpoint serve` starts one and
# sets this; empty, each process draws its charts itself.
TOUCHPOINT_CHART_SOCKET = os.environ.get("TOUCHPOINT_CHART_SOCKET", "")
# How long an invitation link (People → Invite) works, in days; reset links: PASSWORD_RESET_TIMEOUT.
TOUCHPOINT_INVITATION_DAYS = int(os.environ.get("TOUCHPOINT_INVITATION_DAYS", "7"))
# When the daily digest goes out (cron, in TIME_ZONE), and how often workers turn events into alerts.
DAILY_DIGEST_CRON = os.environ.get("DAILY_DIGEST_CRON", "0 7 * * *")
ALERTS_POLL_SECONDS = float(os.environ.get("ALERTS_POLL_SECONDS", "30"))

# --- Touchpoint -------------------------------------------------------------------------------
PORTFOLIO_PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = 20
# How far back and ahead a touch (note, call, meeting, email) may be dated: further is a typo.
TOUCHPOINT_TIMELINE_PAST_DAYS = int(os.environ.get("TOUCHPOINT_TIMELINE_PAST_DAYS", str(10 * 365)))
TOUCHPOINT_TIMELINE_FUTURE_DAYS = int(os.environ.get("TOUCHPOINT_TIMELINE_FUTURE_DAYS", "365"))
API_MAX_PAGE_SIZE = 500

# --- Metrics and logs (docs/operations.md, "Metrics and logs") ----------------------------------
# /metrics answers only when TOUCHPOINT_METRICS=1 (then restrict it at the proxy) or, better, with a
# bearer token: TOUCHPOINT_METRICS_TOKEN (the scraper sends "Authorization: Bearer <token>").
TOUCHPOINT_METRICS = _env_bool("TOUCHPOINT_METRICS", False)
TOUCHPOINT_METRICS_TOKEN = os.environ.get("TOUCHPOINT_METRICS_TOKEN", "")
# TOUCHPOINT_LOG_FORMAT=json: one JSON object per line (python-json-logger), for a log collector.
TOUCHPOINT_LOG_FORMAT = os.environ.get("TOUCHPOINT_LOG_FORMAT", "text").strip().lower()
# One line per request (method, route, status, duration, user id, request id): on by default with
# JSON logs, where a collector wants them; TOUCHPOINT_REQUEST_LOG=0/1 decides either way.
TOUCHPOINT_REQUEST_LOG = _env_bool("TOUCHPOINT_REQUEST_LOG", TOUCHPOINT_LOG_FORMAT == "json")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "touchpoint.operations.middleware.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if TOUCHPOINT_LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "touchpoint.requests": {"level": "INFO" if TOUCHPOINT_REQUEST_LOG else "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- Content-Security-Policy (django-csp) ---------------------------------------------------------
# No inline script anywhere: behaviour lives in static files (touchpoint/app.js), htmx keeps its
# indicator CSS in app.css (the htmx-config meta tag). Styles allow 'unsafe-inline': bars and
# charts size themselves with style="width: …%", and the API docs (Swagger UI) and the Django admin
# set inline styles; a style cannot run code, and scripts stay locked to our own files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
