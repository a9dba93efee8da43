"""`Settings.from_env`: the defaults, and one clear line naming the variable for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from confhub.settings import MIN_SECRET_LENGTH, Settings, SettingsError

pytestmark = pytest.mark.unit

GOOD_SECRET = "s" * MIN_SECRET_LENGTH


def _assert_one_line_naming(error: SettingsError, variable: str) -> None:
    message = str(error)
    assert message.startswith(f"{variable}:"), message
    assert "\n" not in message and "\r" not in message, message


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'confhub.sqlite3'}"
    assert settings.redis_url is None
    assert settings.secret_key is None
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.media_dir == tmp_path / "media"
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.default_province is None
    assert settings.debug is False
    assert settings.session_max_age == 12 * 60 * 60


def test_abuse_limits_are_on_by_default() -> None:
    settings = Settings.from_env({})
    assert settings.login_max_failures_per_account == 10
    assert settings.login_max_failures_per_address == 50
    assert settings.login_window_seconds == 15 * 60
    assert settings.ws_max_message_bytes == 4096
    assert (settings.ws_message_burst, settings.ws_messages_per_second) == (20, 5.0)
    assert settings.ws_handshakes_per_minute == 300
    assert settings.header_timeout == 10
    assert settings.page_max_limit == 500
    assert settings.max_upload_mb == 20


def test_abuse_limits_are_taken() -> None:
    settings = Settings.from_env(
        {
            "CONFHUB_LOGIN_MAX_FAILURES_PER_ACCOUNT": "5",
            "CONFHUB_LOGIN_MAX_FAILURES_PER_ADDRESS": "0",  # that limit off
            "CONFHUB_LOGIN_WINDOW_SECONDS": "3600",
            "CONFHUB_WS_MAX_MESSAGE_BYTES": "8192",
            "CONFHUB_WS_MESSAGES_PER_SECOND": "0.5",
            "CONFHUB_WS_MESSAGE_BURST": "4",
            "CONFHUB_WS_HANDSHAKES_PER_MINUTE": "0",  # that limit off
            "CONFHUB_HEADER_TIMEOUT": "3",
            "CONFHUB_PAGE_MAX_LIMIT": "10000",
            "CONFHUB_MAX_UPLOAD_MB": "50",
        }
    )
    assert settings.login_max_failures_per_account == 5
    assert settings.login_max_failures_per_address == 0
    assert settings.login_window_seconds == 3600
    assert settings.ws_max_message_bytes == 8192
    assert (settings.ws_message_burst, settings.ws_messages_per_second) == (4, 0.5)
    assert (settings.ws_handshakes_per_minute, settings.header_timeout) == (0, 3)
    assert settings.page_max_limit == 10_000
    assert settings.max_upload_bytes == 50 * 1024 * 1024


def test_empty_values_mean_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    names = [
        "CONFHUB_DATABASE_URL",
        "CONFHUB_REDIS_URL",
        "CONFHUB_SECRET_KEY",
        "CONFHUB_BASE_URL",
        "CONFHUB_MEDIA_DIR",
        "CONFHUB_TIMEZONE",
        "CONFHUB_DEFAULT_PROVINCE",
        "CONFHUB_DEBUG",
        "CONFHUB_SESSION_MAX_AGE",
        "CONFHUB_MAX_UPLOAD_MB",
        "CONFHUB_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        "CONFHUB_LOGIN_MAX_FAILURES_PER_ADDRESS",
        "CONFHUB_LOGIN_WINDOW_SECONDS",
        "CONFHUB_WS_MAX_MESSAGE_BYTES",
        "CONFHUB_WS_MESSAGES_PER_SECOND",
        "CONFHUB_WS_MESSAGE_BURST",
        "CONFHUB_WS_HANDSHAKES_PER_MINUTE",
        "CONFHUB_HEADER_TIMEOUT",
        "CONFHUB_PAGE_MAX_LIMIT",
    ]
    assert Settings.from_env(dict.fromkeys(names, "")) == Settings.from_env({})


def test_good_values_are_taken(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    settings = Settings.from_env(
        {
            "CONFHUB_DATABASE_URL": "postgresql+asyncpg://confhub:pw@db:5432/confhub",
            "CONFHUB_REDIS_URL": "redis://cache:6379/0",
            "CONFHUB_SECRET_KEY": GOOD_SECRET,
            "CONFHUB_BASE_URL": "https://hop.thanhhoa.gov.vn/",
            "CONFHUB_MEDIA_DIR": str(media),
            "CONFHUB_TIMEZONE": "Asia/Bangkok",
            "CONFHUB_DEFAULT_PROVINCE": "38",
            "CONFHUB_DEBUG": "yes",
            "CONFHUB_SESSION_MAX_AGE": "3600",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://confhub:pw@db:5432/confhub"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.secret_key == GOOD_SECRET
    assert settings.base_url == "https://hop.thanhhoa.gov.vn"
    assert settings.media_dir == media
    assert settings.timezone == "Asia/Bangkok"
    assert settings.default_province == 38
    assert settings.debug is True
    assert settings.session_max_age == 3600
    assert settings.require_secret_key() == GOOD_SECRET


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("ON", True), ("0", False), ("off", False), ("No", False)],
)
def test_debug_accepts_usual_booleans(raw: str, expected: bool) -> None:
    assert Settings.from_env({"CONFHUB_DEBUG": raw}).debug is expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONFHUB_DATABASE_URL", "not a url"),
        ("CONFHUB_DATABASE_URL", "mysql://user@localhost/confhub"),
        ("CONFHUB_DATABASE_URL", "postgresql://postgres@localhost/confhub"),
        ("CONFHUB_DATABASE_URL", "sqlite:///confhub.sqlite3"),
        ("CONFHUB_DATABASE_URL", "postgresql+asyncpg://u@db:notaport/confhub"),
        ("CONFHUB_REDIS_URL", "http://x"),
        ("CONFHUB_REDIS_URL", "localhost:6379"),
        ("CONFHUB_REDIS_URL", "redis://cache:notaport/0"),
        ("CONFHUB_REDIS_URL", "redis://[::1"),
        ("CONFHUB_SECRET_KEY", "short"),
        ("CONFHUB_SECRET_KEY", "s" * (MIN_SECRET_LENGTH - 1)),
        ("CONFHUB_BASE_URL", "ftp://x"),
        ("CONFHUB_BASE_URL", "nonsense"),
        ("CONFHUB_BASE_URL", "http://"),
        ("CONFHUB_BASE_URL", "http://[::1"),
        ("CONFHUB_BASE_URL", "https://example.org:99999"),
        ("CONFHUB_TIMEZONE", "Mars/Olympus"),
        ("CONFHUB_TIMEZONE", "../../etc/passwd"),
        ("CONFHUB_TIMEZONE", "Asia"),
        ("CONFHUB_TIMEZONE", "A" * 300),
        ("CONFHUB_DEFAULT_PROVINCE", "abc"),
        ("CONFHUB_DEFAULT_PROVINCE", "3.8"),
        ("CONFHUB_DEBUG", "maybe"),
        ("CONFHUB_SESSION_MAX_AGE", "0"),
        ("CONFHUB_SESSION_MAX_AGE", "-5"),
        ("CONFHUB_SESSION_MAX_AGE", "x"),
        ("CONFHUB_MAX_UPLOAD_MB", "0"),
        ("CONFHUB_MAX_UPLOAD_MB", "20MB"),
        ("CONFHUB_LOGIN_MAX_FAILURES_PER_ACCOUNT", "-1"),
        ("CONFHUB_LOGIN_MAX_FAILURES_PER_ACCOUNT", "ten"),
        ("CONFHUB_LOGIN_MAX_FAILURES_PER_ACCOUNT", "2.5"),
        ("CONFHUB_LOGIN_MAX_FAILURES_PER_ADDRESS", "-3"),
        ("CONFHUB_LOGIN_MAX_FAILURES_PER_ADDRESS", "many"),
        ("CONFHUB_LOGIN_WINDOW_SECONDS", "0"),
        ("CONFHUB_LOGIN_WINDOW_SECONDS", "15m"),
        ("CONFHUB_WS_MAX_MESSAGE_BYTES", "0"),
        ("CONFHUB_WS_MAX_MESSAGE_BYTES", "4k"),
        ("CONFHUB_WS_MESSAGES_PER_SECOND", "0"),
        ("CONFHUB_WS_MESSAGES_PER_SECOND", "-1"),
        ("CONFHUB_WS_MESSAGES_PER_SECOND", "nan"),
        ("CONFHUB_WS_MESSAGES_PER_SECOND", "inf"),
        ("CONFHUB_WS_MESSAGES_PER_SECOND", "fast"),
        ("CONFHUB_WS_MESSAGE_BURST", "0"),
        ("CONFHUB_WS_MESSAGE_BURST", "1.5"),
        ("CONFHUB_WS_HANDSHAKES_PER_MINUTE", "-1"),
        ("CONFHUB_WS_HANDSHAKES_PER_MINUTE", "lots"),
        ("CONFHUB_HEADER_TIMEOUT", "0"),
        ("CONFHUB_HEADER_TIMEOUT", "10s"),
        ("CONFHUB_PAGE_MAX_LIMIT", "0"),
        ("CONFHUB_PAGE_MAX_LIMIT", "10001"),
        ("CONFHUB_PAGE_MAX_LIMIT", "all"),
    ],
)
def test_bad_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    _assert_one_line_naming(caught.value, variable)


def test_media_dir_that_is_a_file_is_rejected(tmp_path: Path) -> None:
    regular_file = tmp_path / "media"
    regular_file.write_text("not a folder")
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"CONFHUB_MEDIA_DIR": str(regular_file)})
    _assert_one_line_naming(caught.value, "CONFHUB_MEDIA_DIR")


def test_media_dir_that_cannot_be_checked_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "exists", refuse)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"CONFHUB_MEDIA_DIR": str(tmp_path / "locked" / "media")})
    _assert_one_line_naming(caught.value, "CONFHUB_MEDIA_DIR")


def test_media_dir_may_not_exist_yet(tmp_path: Path) -> None:
    missing = tmp_path / "later" / "media"
    assert Settings.from_env({"CONFHUB_MEDIA_DIR": str(missing)}).media_dir == missing


def test_a_value_with_a_newline_still_gives_one_line() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"CONFHUB_BASE_URL": "ftp://x\nsecond line"})
    _assert_one_line_naming(caught.value, "CONFHUB_BASE_URL")


def test_settings_error_is_a_value_error() -> None:
    assert issubclass(SettingsError, ValueError)


def test_require_secret_key_without_a_secret() -> None:
    settings = Settings.from_env({})
    with pytest.raises(SettingsError) as caught:
        settings.require_secret_key()
    _assert_one_line_naming(caught.value, "CONFHUB_SECRET_KEY")


def test_require_secret_key_with_overrides() -> None:
    settings = Settings.from_env({}).with_overrides(secret_key=GOOD_SECRET)
    assert settings.require_secret_key() == GOOD_SECRET


def test_notice_settings_are_taken_and_checked() -> None:
    settings = Settings.from_env(
        {
            "CONFHUB_SMTP_URL": "smtp://giaymoi:secret@mail.example.vn:587?starttls=1",
            "CONFHUB_MAIL_FROM": "giaymoi@example.vn",
            "CONFHUB_NOTIFY_WEBHOOK_URL": "https://sms.example.vn/hook",
            "CONFHUB_NOTIFY_WEBHOOK_SECRET": "s" * 16,
        }
    )
    assert settings.smtp_url == "smtp://giaymoi:secret@mail.example.vn:587?starttls=1"
    assert settings.mail_from == "giaymoi@example.vn"
    assert settings.notify_webhook_url == "https://sms.example.vn/hook"
    defaults = Settings.from_env({})
    assert (defaults.smtp_url, defaults.notify_webhook_url) == (None, None)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"CONFHUB_SMTP_URL": "http://u:secret@mail:25"}, "CONFHUB_SMTP_URL"),
        ({"CONFHUB_SMTP_URL": "smtp://mail:25?tls=yes"}, "CONFHUB_SMTP_URL"),
        ({"CONFHUB_MAIL_FROM": "not an address"}, "CONFHUB_MAIL_FROM"),
        ({"CONFHUB_NOTIFY_WEBHOOK_URL": "ftp://x/"}, "CONFHUB_NOTIFY_WEBHOOK_URL"),
        ({"CONFHUB_NOTIFY_WEBHOOK_URL": "https://x/"}, "CONFHUB_NOTIFY_WEBHOOK_SECRET"),
        (
            {"CONFHUB_NOTIFY_WEBHOOK_URL": "https://x/", "CONFHUB_NOTIFY_WEBHOOK_SECRET": "short"},
            "CONFHUB_NOTIFY_WEBHOOK_SECRET",
        ),
    ],
)
def test_bad_notice_settings_name_their_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env(env)
    _assert_one_line_naming(error.value, variable)
    assert "secret" not in str(error.value)  # a password in the URL is never repeated
