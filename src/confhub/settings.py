"""The one settings object of confhub, read from `CONFHUB_*` environment variables once.

Every bad value fails at start with a single line naming the variable, so an operator sees
exactly what to fix.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SUPPORTED_DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
MIN_SECRET_LENGTH = 32
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
DEFAULT_TRUSTED_PROXIES = ("127.0.0.1", "::1")
# A multipart form's own bytes around an uploaded file: boundaries, part headers, a caption or a
# CSRF token. A browser's form around one file takes well under 2 KiB.
MULTIPART_MARGIN_BYTES = 64 * 1024
# A person mistyping their own password stops long before 10; an address is often a whole
# office (or a mobile carrier's NAT), so it gets more (deploy/confhub.env.example explains).
DEFAULT_LOGIN_MAX_FAILURES_PER_ACCOUNT = 10
DEFAULT_LOGIN_MAX_FAILURES_PER_ADDRESS = 50
DEFAULT_LOGIN_WINDOW_SECONDS = 15 * 60
DEFAULT_WS_MAX_MESSAGE_BYTES = 4096
# A point's client sends a heartbeat every few seconds and a check-in now and then.
DEFAULT_WS_MESSAGES_PER_SECOND = 5.0
DEFAULT_WS_MESSAGE_BURST = 20
# Live-channel handshakes one address may make in a minute: a secretariat's office opens 50
# boards at once and reopens them all after a process restarts; points behind one carrier NAT
# reconnect after a network blip (deploy/confhub.env.example explains the choice).
DEFAULT_WS_HANDSHAKES_PER_MINUTE = 300
# Seconds a connection has to send a whole request's headers (from its opening, or from the
# previous response on a kept-alive connection) before it is closed.
DEFAULT_HEADER_TIMEOUT = 10
DEFAULT_PAGE_MAX_LIMIT = 500
# argon2id's cost, RFC 9106's second recommended (low-memory) profile: 3 passes over 64 MiB with
# 4 lanes, about 130 ms of CPU a hash here. Hashes carry their own parameters, so changing these
# only affects passwords set afterwards; a lower cost is for tests, never for production.
DEFAULT_PASSWORD_HASH_TIME_COST = 3
DEFAULT_PASSWORD_HASH_MEMORY_KIB = 64 * 1024
DEFAULT_PASSWORD_HASH_PARALLELISM = 4
# Past this a page is an export, not a page: the setting may not go higher.
PAGE_MAX_LIMIT_CEILING = 10_000
DEFAULT_MAIL_FROM = "confhub@localhost"
SMTP_SCHEMES = ("smtp", "smtps")
_MAILBOX = re.compile(r"[^@\s<>]+@[^@\s<>]+")


class SettingsError(ValueError):
    """A configuration value is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; build it with :meth:`from_env` (tests use :meth:`with_overrides`)."""

    database_url: str
    redis_url: str | None = None
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    media_dir: Path = field(default_factory=lambda: Path.cwd() / "media")
    timezone: str = "Asia/Ho_Chi_Minh"
    default_province: int | None = None
    debug: bool = False
    session_max_age: int = 60 * 60 * 12
    max_upload_mb: int = 20
    # How long past meetings stay in calendar feeds, in days.
    calendar_past_days: int = 90
    # Addresses (or networks) whose X-Forwarded-For/-Proto headers are believed: the proxies.
    trusted_proxies: tuple[str, ...] = DEFAULT_TRUSTED_PROXIES
    log_format: str = "text"
    log_level: str = "info"
    # Seconds `serve` waits for in-flight requests after SIGTERM before cancelling them.
    shutdown_timeout: int = 20
    # Failed sign-ins allowed per login name and per client address within the window, then
    # 429 until the window (counted from the first failure) ends; 0 turns that limit off.
    login_max_failures_per_account: int = DEFAULT_LOGIN_MAX_FAILURES_PER_ACCOUNT
    login_max_failures_per_address: int = DEFAULT_LOGIN_MAX_FAILURES_PER_ADDRESS
    login_window_seconds: int = DEFAULT_LOGIN_WINDOW_SECONDS
    # The live channel: the largest message a client may send, and its token bucket (a burst,
    # then so many messages a second).
    ws_max_message_bytes: int = DEFAULT_WS_MAX_MESSAGE_BYTES
    ws_messages_per_second: float = DEFAULT_WS_MESSAGES_PER_SECOND
    ws_message_burst: int = DEFAULT_WS_MESSAGE_BURST
    # Live-channel handshakes per client address and minute, then 429 until the minute (counted
    # from the first) ends; 0 turns the limit off.
    ws_handshakes_per_minute: int = DEFAULT_WS_HANDSHAKES_PER_MINUTE
    # Seconds a connection may take to send its request's headers before it is closed.
    header_timeout: int = DEFAULT_HEADER_TIMEOUT
    # The most items one page of a JSON list holds (`limit` above it is a 400).
    page_max_limit: int = DEFAULT_PAGE_MAX_LIMIT
    # Notices (confhub.notices): the SMTP server (unset: e-mails stay on the outbox page), the
    # sender, and the webhook a province points at its SMS or Zalo gateway (unset: none).
    smtp_url: str | None = None
    mail_from: str = DEFAULT_MAIL_FROM
    notify_webhook_url: str | None = None
    notify_webhook_secret: str | None = None
    # Who a chair asks for a new check-in link (office, phone), shown where a link no longer works.
    secretariat_contact: str = ""
    # Seconds between two sweeps of the points a dead process left online (confhub.attendance.
    # runtime; each process sweeps, one query a sweep). Not read from the environment: tests
    # lower it instead of waiting.
    presence_sweep_seconds: float = 10.0
    # Seconds between two presence rounds (storing and broadcasting what changed). Not read from
    # the environment either: tests lower it instead of waiting.
    presence_every_seconds: float = 2.0
    # argon2id's cost for new password hashes: passes, memory (KiB) and lanes.
    password_hash_time_cost: int = DEFAULT_PASSWORD_HASH_TIME_COST
    password_hash_memory_kib: int = DEFAULT_PASSWORD_HASH_MEMORY_KIB
    password_hash_parallelism: int = DEFAULT_PASSWORD_HASH_PARALLELISM

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check every `CONFHUB_*` variable; a bad one raises :class:`SettingsError`."""
        env = os.environ if environ is None else environ
        default_db = f"sqlite+aiosqlite:///{Path.cwd() / 'confhub.sqlite3'}"
        return cls(
            database_url=_database_url(env.get("CONFHUB_DATABASE_URL") or default_db),
            redis_url=_redis_url(env.get("CONFHUB_REDIS_URL") or None),
            secret_key=_secret_key(env.get("CONFHUB_SECRET_KEY") or None),
            base_url=_base_url(env.get("CONFHUB_BASE_URL") or "http://127.0.0.1:8000"),
            media_dir=_media_dir(env.get("CONFHUB_MEDIA_DIR")),
            timezone=_timezone(env.get("CONFHUB_TIMEZONE") or "Asia/Ho_Chi_Minh"),
            default_province=_int_or_none("CONFHUB_DEFAULT_PROVINCE", env),
            debug=_bool("CONFHUB_DEBUG", env),
            session_max_age=_positive_int("CONFHUB_SESSION_MAX_AGE", env, 60 * 60 * 12),
            max_upload_mb=_positive_int("CONFHUB_MAX_UPLOAD_MB", env, 20),
            calendar_past_days=_positive_int("CONFHUB_CALENDAR_PAST_DAYS", env, 90),
            trusted_proxies=_trusted_proxies(env.get("CONFHUB_TRUSTED_PROXIES") or None),
            log_format=_choice("CONFHUB_LOG_FORMAT", env, LOG_FORMATS, "text"),
            log_level=_choice("CONFHUB_LOG_LEVEL", env, LOG_LEVELS, "info"),
            shutdown_timeout=_positive_int("CONFHUB_SHUTDOWN_TIMEOUT", env, 20),
            login_max_failures_per_account=_non_negative_int(
                "CONFHUB_LOGIN_MAX_FAILURES_PER_ACCOUNT",
                env,
                DEFAULT_LOGIN_MAX_FAILURES_PER_ACCOUNT,
            ),
            login_max_failures_per_address=_non_negative_int(
                "CONFHUB_LOGIN_MAX_FAILURES_PER_ADDRESS",
                env,
                DEFAULT_LOGIN_MAX_FAILURES_PER_ADDRESS,
            ),
            login_window_seconds=_positive_int(
                "CONFHUB_LOGIN_WINDOW_SECONDS", env, DEFAULT_LOGIN_WINDOW_SECONDS
            ),
            ws_max_message_bytes=_positive_int(
                "CONFHUB_WS_MAX_MESSAGE_BYTES", env, DEFAULT_WS_MAX_MESSAGE_BYTES
            ),
            ws_messages_per_second=_positive_number(
                "CONFHUB_WS_MESSAGES_PER_SECOND", env, DEFAULT_WS_MESSAGES_PER_SECOND
            ),
            ws_message_burst=_positive_int(
                "CONFHUB_WS_MESSAGE_BURST", env, DEFAULT_WS_MESSAGE_BURST
            ),
            ws_handshakes_per_minute=_non_negative_int(
                "CONFHUB_WS_HANDSHAKES_PER_MINUTE", env, DEFAULT_WS_HANDSHAKES_PER_MINUTE
            ),
            header_timeout=_positive_int("CONFHUB_HEADER_TIMEOUT", env, DEFAULT_HEADER_TIMEOUT),
            page_max_limit=_page_max_limit(env),
            smtp_url=_smtp_url(env.get("CONFHUB_SMTP_URL") or None),
            mail_from=_mail_from(env.get("CONFHUB_MAIL_FROM") or DEFAULT_MAIL_FROM),
            notify_webhook_url=_webhook_url(env.get("CONFHUB_NOTIFY_WEBHOOK_URL") or None),
            notify_webhook_secret=_webhook_secret(env),
            secretariat_contact=_one_line("CONFHUB_SECRETARIAT_CONTACT", env, 300),
            **_password_hash_cost(env),
        )

    def with_overrides(self, **changes: object) -> Settings:
        """Return a copy with some fields changed (used by the CLI and tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def max_upload_bytes(self) -> int:
        """The largest accepted upload, in bytes."""
        return self.max_upload_mb * 1024 * 1024

    @property
    def max_request_body_bytes(self) -> int:
        """The largest request body: an upload of `max_upload_bytes` in its multipart form
        (boundaries, part headers and the form's other fields fit in the margin). nginx in
        front allows exactly this too (deploy/nginx/render.sh)."""
        return self.max_upload_bytes + MULTIPART_MARGIN_BYTES

    def require_secret_key(self) -> str:
        """The secret key, or a :class:`SettingsError` saying it is needed."""
        if not self.secret_key:
            raise SettingsError(
                "CONFHUB_SECRET_KEY: required to serve; set it to a random string of at least "
                f"{MIN_SECRET_LENGTH} characters (e.g. `python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)"
            )
        return self.secret_key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings.from_env()


def _database_url(value: str) -> str:
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise SettingsError(f"CONFHUB_DATABASE_URL: not a database URL: {value!r}") from None
    if url.drivername not in SUPPORTED_DATABASE_DRIVERS:
        raise SettingsError(
            "CONFHUB_DATABASE_URL: the driver must be one of "
            f"{', '.join(SUPPORTED_DATABASE_DRIVERS)}, got {url.drivername!r}"
        )
    return value


def _redis_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = _split_url(value)
    if (
        parts is None
        or parts.scheme not in ("redis", "rediss", "unix")
        or not (parts.hostname or parts.path)
    ):
        raise SettingsError(f"CONFHUB_REDIS_URL: expected redis://host:port/db, got {value!r}")
    return value


def _secret_key(value: str | None) -> str | None:
    if value is not None and len(value) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"CONFHUB_SECRET_KEY: must be at least {MIN_SECRET_LENGTH} characters long"
        )
    return value


def _base_url(value: str) -> str:
    parts = _split_url(value)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"CONFHUB_BASE_URL: expected http(s)://host[:port], got {value!r}")
    return value.rstrip("/")


def _media_dir(value: str | None) -> Path:
    path = Path(value) if value else Path.cwd() / "media"
    try:
        is_file = path.exists() and not path.is_dir()
    except OSError as exc:  # e.g. a parent folder the process may not enter
        raise SettingsError(f"CONFHUB_MEDIA_DIR: {str(path)!r} cannot be used: {exc}") from None
    if is_file:
        raise SettingsError(f"CONFHUB_MEDIA_DIR: {str(path)!r} exists and is not a directory")
    return path


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Asia" is a folder
        raise SettingsError(f"CONFHUB_TIMEZONE: unknown time zone {value!r}") from None
    return value


def _trusted_proxies(value: str | None) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_TRUSTED_PROXIES
    entries = tuple(part.strip() for part in value.split(",") if part.strip())
    if not entries:
        return DEFAULT_TRUSTED_PROXIES
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                "CONFHUB_TRUSTED_PROXIES: expected comma-separated addresses or networks "
                f"(e.g. 127.0.0.1,10.0.0.0/24), got {entry!r}"
            ) from None
    return entries


def _choice(name: str, env: Mapping[str, str], choices: tuple[str, ...], default: str) -> str:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise SettingsError(f"{name}: expected one of {', '.join(choices)}, got {raw!r}")
    return raw


def _split_url(value: str) -> SplitResult | None:
    """The parts of a URL, or None when it cannot be parsed (bad IPv6 host, bad port)."""
    try:
        parts = urlsplit(value)
        _ = parts.port  # parsed lazily; raises ValueError for "host:notaport" or 99999
    except ValueError:
        return None
    return parts


def _one_line(name: str, env: Mapping[str, str], limit: int) -> str:
    raw = " ".join((env.get(name) or "").split())
    if len(raw) > limit or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in raw):
        raise SettingsError(f"{name}: expected one line of at most {limit} characters")
    return raw


def _int_or_none(name: str, env: Mapping[str, str]) -> int | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None


def _positive_int(name: str, env: Mapping[str, str], default: int) -> int:
    value = _int_or_none(name, env)
    if value is None:
        return default
    if value <= 0:
        raise SettingsError(f"{name}: must be greater than 0, got {value}")
    return value


def _non_negative_int(name: str, env: Mapping[str, str], default: int) -> int:
    value = _int_or_none(name, env)
    if value is None:
        return default
    if value < 0:
        raise SettingsError(f"{name}: must be 0 or more, got {value}")
    return value


def _page_max_limit(env: Mapping[str, str]) -> int:
    name = "CONFHUB_PAGE_MAX_LIMIT"
    value = _positive_int(name, env, DEFAULT_PAGE_MAX_LIMIT)
    if value > PAGE_MAX_LIMIT_CEILING:
        raise SettingsError(f"{name}: must be at most {PAGE_MAX_LIMIT_CEILING}, got {value}")
    return value


def _password_hash_cost(env: Mapping[str, str]) -> dict[str, int]:
    time_cost = _positive_int(
        "CONFHUB_PASSWORD_HASH_TIME_COST", env, DEFAULT_PASSWORD_HASH_TIME_COST
    )
    parallelism = _positive_int(
        "CONFHUB_PASSWORD_HASH_PARALLELISM", env, DEFAULT_PASSWORD_HASH_PARALLELISM
    )
    name = "CONFHUB_PASSWORD_HASH_MEMORY_KIB"
    memory_kib = _positive_int(name, env, DEFAULT_PASSWORD_HASH_MEMORY_KIB)
    if memory_kib < 8 * parallelism:  # argon2's own rule: 8 KiB per lane at least
        raise SettingsError(
            f"{name}: must be at least 8 per lane (CONFHUB_PASSWORD_HASH_PARALLELISM="
            f"{parallelism}), got {memory_kib}"
        )
    return {
        "password_hash_time_cost": time_cost,
        "password_hash_memory_kib": memory_kib,
        "password_hash_parallelism": parallelism,
    }


def _positive_number(name: str, env: Mapping[str, str], default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number, got {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name}: must be a number greater than 0, got {raw!r}")
    return value


def _smtp_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = _split_url(value)
    if parts is None or parts.scheme not in SMTP_SCHEMES or not parts.hostname:
        raise SettingsError(
            "CONFHUB_SMTP_URL: expected smtp://[user:pass@]host:port, smtps://… or "
            f"smtp://…?starttls=1, got {_without_password(value)!r}"
        )
    if parts.query not in ("", "starttls=1", "starttls=0"):
        raise SettingsError(
            f"CONFHUB_SMTP_URL: the only option is ?starttls=1, got {parts.query!r}"
        )
    return value


def _without_password(value: str) -> str:
    """A URL as an error may show it: a password replaced by ***."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", value)


def _mail_from(value: str) -> str:
    value = value.strip()
    if not _MAILBOX.fullmatch(value):
        raise SettingsError(f"CONFHUB_MAIL_FROM: expected an address like a@b.vn, got {value!r}")
    return value


def _webhook_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = _split_url(value)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"CONFHUB_NOTIFY_WEBHOOK_URL: expected http(s)://host/path, got {value!r}"
        )
    return value


def _webhook_secret(env: Mapping[str, str]) -> str | None:
    secret = env.get("CONFHUB_NOTIFY_WEBHOOK_SECRET") or None
    if env.get("CONFHUB_NOTIFY_WEBHOOK_URL") and not secret:
        raise SettingsError(
            "CONFHUB_NOTIFY_WEBHOOK_SECRET: required with CONFHUB_NOTIFY_WEBHOOK_URL (the "
            "receiver checks each post's signature with it)"
        )
    if secret is not None and len(secret) < 16:
        raise SettingsError("CONFHUB_NOTIFY_WEBHOOK_SECRET: must be at least 16 characters long")
    return secret


def _bool(name: str, env: Mapping[str, str]) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name}: expected true or false, got {raw!r}")
