"""Log lines: JSON with the request id and extras, text with the id in brackets, and no secret
in either (check-in tokens, private calendar links, passwords, phone numbers)."""

from __future__ import annotations

import json
import logging
import logging.config

import pytest

from confhub.system.logs import (
    REQUEST_ID,
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    logging_config,
    redact,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("GET /checkin/hvVQLp5vmbXclf1qZdLPLg", "GET /checkin/[redacted]"),
        ("/checkin/abc123/ack?x=1", "/checkin/[redacted]/ack?x=1"),
        ("/calendar/private/Zx9-token.ics", "/calendar/private/[redacted]"),
        ("/ws/meetings/2?token=abc&lang=en", "/ws/meetings/2?token=[redacted]&lang=en"),
        (
            '{"email": "a@b.vn", "password": "hunter2"}',
            '{"email": "a@b.vn", "password": [redacted]}',
        ),
        ("chair phone 0912 345 678 called", "chair phone [redacted] called"),
        ("chair +84912345678", "chair [redacted]"),
        (
            "took 0.0123456789 s for meeting 1234567890",
            "took 0.0123456789 s for meeting 1234567890",
        ),
    ],
)
def test_redact(raw: str, masked: str) -> None:
    assert redact(raw) == masked


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("confhub.test", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    RequestIdFilter().filter(record)
    return record


def test_json_lines_carry_the_request_id_and_extras() -> None:
    token = REQUEST_ID.set("req-0123456789")
    try:
        record = _record(
            "GET %s %s", "/checkin/secret-token", 200, status=200, route="/checkin/{token}"
        )
    finally:
        REQUEST_ID.reset(token)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["request_id"] == "req-0123456789"
    assert entry["message"] == "GET /checkin/[redacted] 200"
    assert entry["status"] == 200 and entry["level"] == "info" and entry["logger"] == "confhub.test"
    assert "secret-token" not in line


def test_exceptions_are_one_json_line() -> None:
    try:
        raise ValueError("bad /checkin/leaky-token")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line and "leaky-token" not in line
    assert "ValueError" in json.loads(line)["exception"]


def test_text_lines_show_the_request_id() -> None:
    token = REQUEST_ID.set("req-42424242")
    try:
        text = TextFormatter().format(_record("hello ?token=abc"))
    finally:
        REQUEST_ID.reset(token)
    assert "[req-42424242] hello ?token=[redacted]" in text


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_the_config_is_one_dictconfig_accepts(log_format: str) -> None:
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {
        name: (
            logging.getLogger(name).handlers[:],
            logging.getLogger(name).level,
            logging.getLogger(name).propagate,
        )
        for name in names
    }
    try:
        logging.config.dictConfig(logging_config(log_format, "warning"))
        (handler,) = logging.getLogger().handlers
        expected = JsonFormatter if log_format == "json" else TextFormatter
        assert isinstance(handler.formatter, expected)
        assert logging.getLogger().level == logging.WARNING
        assert logging.getLogger("uvicorn.access").propagate is False
    finally:
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
