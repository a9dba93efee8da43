"""Log lines of a served process: JSON (one object a line, for journald and log shippers) or
text, each carrying the request id of the request it belongs to.

Secrets never reach a log: check-in and calendar tokens in paths and `?token=` values, passwords
and phone numbers are masked in every line, whatever logger wrote it.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("confhub_request_id", default=None)
REDACTED = "[redacted]"

_SECRET_PATH = re.compile(r"(/checkin/|/calendar/private/)[^/?#\s\"']+")
# `q` is free search text: a secretariat looks a chair up by name or phone (personal data).
_SECRET_QUERY = re.compile(
    r"([?&](?:token|password|secret|key|api_key|access_token|q)=)[^&#\s\"']*", re.IGNORECASE
)
_SECRET_FIELD = re.compile(
    r"([\"']?(?:password|checkin_token|token|phone|chair_phone)[\"']?\s*[:=]\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^,}&\s]+)",
    re.IGNORECASE,
)
# Vietnamese phone numbers: 0xxxxxxxxx or +84xxxxxxxxx, with optional spaces, dots or dashes,
# also as a URL writes them (`+` or `%20` for a space, `%2B` for the plus).
_PHONE = re.compile(
    r"(?:(?<![\w.%])|(?<=%20)|(?<=%2[Bb]))(?:\+84|%2[Bb]84|0)(?:(?:[ .\-+]|%20)?\d){9}(?![\w.])"
)

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "request_id", "color_message", "request_tag"}


def redact(text: str) -> str:
    """`text` with tokens, passwords and phone numbers masked."""
    text = _SECRET_PATH.sub(rf"\g<1>{REDACTED}", text)
    text = _SECRET_QUERY.sub(rf"\g<1>{REDACTED}", text)
    text = _SECRET_FIELD.sub(rf"\g<1>{REDACTED}", text)
    return _PHONE.sub(REDACTED, text)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or None) on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class WebsocketLineFilter(logging.Filter):
    """Drops uvicorn's own lines for each websocket (`"WebSocket /ws/…" [accepted]`, and the
    `connection open` of its websockets protocol): the `confhub.access` line says the same with
    the request id and close code, and a flood of sockets would otherwise write and mask three
    lines per socket."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        if not isinstance(message, str):
            return True
        return not (message == "connection open" or message.startswith('%s - "WebSocket %s"'))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message`, masked like the JSON lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(request_tag)s%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        record.request_tag = f"[{request_id}] " if request_id else ""
        return redact(super().format(record))


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for served processes (uvicorn applies it in each worker).

    Everything goes to standard error (systemd's journal); uvicorn's own access log is off,
    confhub's request log (`confhub.access`) replaces it with request ids and masked paths.
    """
    formatter = "json" if log_format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "websocket_lines": {"()": WebsocketLineFilter},
        },
        "formatters": {"json": {"()": JsonFormatter}, "text": {"()": TextFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": formatter,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level.upper()},
            "uvicorn.error": {"handlers": [], "propagate": True, "filters": ["websocket_lines"]},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
