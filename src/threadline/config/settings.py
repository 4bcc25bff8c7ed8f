"""Django settings for Threadline; everything an operator sets comes from `THREADLINE_*` (see env.py)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from django.utils.translation import gettext_lazy as _

from threadline.config import env

DATA_DIR = env.data_dir()
CACHE_DIR = env.cache_dir(DATA_DIR)
SECRET_KEY = env.secret_key(DATA_DIR)
DEBUG = env.flag("DEBUG")
PUBLIC_URL = env.public_url(DATA_DIR)
REDIS_URL = env.get("REDIS_URL") or ""
SMTP_RELAY_URL = env.get("SMTP_RELAY_URL") or ""

_public_host = urlparse(PUBLIC_URL).hostname or "localhost"
ALLOWED_HOSTS = [h.strip() for h in (env.get("ALLOWED_HOSTS") or "").split(",") if h.strip()] or [
    _public_host,
    "localhost",
    "127.0.0.1",
    "[::1]",
    "testserver",
]
CSRF_TRUSTED_ORIGINS = [PUBLIC_URL]
# Cookies only over https when the server is reached over https (HSTS: core/security_headers.py)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PUBLIC_URL.startswith("https://")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"

INSTALLED_APPS = [
    "threadline.core",  # first, so that its `createsuperuser` (the operator's) replaces Django's
    "threadline.web.admin_app.OperatorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # Swagger UI at /api/v1/docs from the package's own static files, not a CDN
    "threadline.tenancy",
    "threadline.jobs",
    "threadline.events",
    "threadline.contacts",
    "threadline.conversations",
    "threadline.channels",
    "threadline.channels.email",
    "threadline.consent",
    "threadline.channels.whatsapp",
    "threadline.webhooks",
    "threadline.api",
    "threadline.replies",
    "threadline.automations",
    "threadline.language",
    "threadline.sla",
    "threadline.routing",
    "threadline.channels.webchat",
    "threadline.web",
    "threadline.audit",
    "threadline.privacy",
    "threadline.search",
    "threadline.sso",
    "threadline.portal",
    "threadline.knowledge",
    "threadline.analytics",
    "threadline.bot",
    "threadline.surveys",
    "threadline.helpcenter",
    "threadline.community",
    "threadline.triage",
    "threadline.translation",
    "threadline.jira",
    "threadline.migration",
    "threadline.social",
    "threadline.panelapps",
    "threadline.crisis",
    "threadline.crm",
    "threadline.outreach",
]

MIDDLEWARE = [
    "threadline.core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "threadline.core.security_headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "threadline.audit.context.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if env.flag("SERVER_TIMING"):  # where each request's time went, for bench/reads.py (core/server_timing.py)
    MIDDLEWARE.insert(0, "threadline.core.server_timing.ServerTimingMiddleware")

ROOT_URLCONF = "threadline.config.urls"
ASGI_APPLICATION = "threadline.config.asgi.application"
AUTH_USER_MODEL = "tenancy.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {"default": env.database_config(DATA_DIR)}

REDIS_PREFIX = env.get("REDIS_PREFIX") or "threadline"
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py gives up reading after 5 s by default, exactly how long channels_redis blocks on a
            # receive: sockets then die under load. A longer socket timeout keeps them.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "prefix": f"{REDIS_PREFIX}:asgi"},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    if os.environ.get("TL_SERVE_RELAY_FDS"):  # the worker process of `serve`: the web process's cache (core.relay)
        CACHES = {"default": {"BACKEND": "threadline.core.relay.RelayCache"}}

PASSWORD_HASHERS = [
    "threadline.tenancy.hashers.Argon2idHasher",  # Argon2id at OWASP's minimum, not Django's 100 MiB x 8 lanes
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # not the account's own email (or its local part) or name
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("email", "name")}},
]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("he", _("Hebrew")),
    ("fa", _("Persian")),
    ("th", _("Thai")),
    ("cs", _("Czech")),
]
LANGUAGES_BIDI = ["he", "fa", "ar", "ur"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [Path(__file__).resolve().parent.parent / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "attachments"
FILE_UPLOAD_PERMISSIONS = 0o600  # attachments: readable by this account only
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Front-end libraries from the npm registry (package.json, pinned in package-lock.json; `make install` runs
# `npm ci`), served from their own dist folders as /static/<name>/ — never copied into the repo, never a CDN.
NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
STATICFILES_DIRS = [("chart.js", NODE_MODULES / "chart.js" / "dist")]

DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024

THREADLINE = {
    "EMBEDDED_WORKER": env.flag("EMBEDDED_WORKER", default=True),
    "WORKER_CONCURRENCY": int(env.get("WORKER_CONCURRENCY") or 2),
    # ADR 0006: with two cores or more, `serve` runs its worker in a process of its own
    "WORKER_PROCESS": env.worker_process(),
    # ADR 0008: None until `serve` decides (on when its web process runs no worker thread); off elsewhere
    "INTAKE": env.optional_flag("INTAKE"),
    "OUTBOUND_ALLOW_PRIVATE": env.flag("OUTBOUND_ALLOW_PRIVATE"),
    "API_RATE_LIMIT": int(env.get("API_RATE_LIMIT") or 600),
    "TRUSTED_PROXIES": env.networks("TRUSTED_PROXIES"),
    "ATTACHMENT_MAX_BYTES": 25 * 1024 * 1024,
    "INBOUND_MAX_BYTES": 1024 * 1024,  # a provider webhook's body (core.body_limit counts it as it arrives)
    "UPLOAD_MAX_BYTES": 100 * 1024 * 1024,  # a widget or composer request carrying attachments
    "DNS_NAMESERVERS": env.host_ports(env.get("DNS_NAMESERVERS"), 53),
    "METRICS_TOKEN": env.get("METRICS_TOKEN") or "",
    "SYSTEM_MAIL_URL": env.get("SYSTEM_MAIL_URL") or SMTP_RELAY_URL,  # invitations and password resets
    "SYSTEM_MAIL_FROM": env.get("SYSTEM_MAIL_FROM") or "",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {
        "one_line": {"()": "threadline.core.logfilters.OneLine"},
        "redact_secrets": {"()": "threadline.core.logfilters.RedactSecrets"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env.get("LOG_LEVEL") or "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # a wrong Host header is the caller's mistake: 400 and one line, not a traceback per request
        "django.security.DisallowedHost": {"filters": ["one_line"]},
        # a body over DATA_UPLOAD_MAX_MEMORY_SIZE from a stranger: 400 and one line too
        "django.security.RequestDataTooBig": {"filters": ["one_line"]},
    },
}
