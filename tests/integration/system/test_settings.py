"""The deployment settings: trusted proxies, log format and level, shutdown timeout and the
abuse limits, each failing with one line naming its variable."""

from __future__ import annotations

import pytest

from confhub.settings import Settings, SettingsError
from confhub.system.serving import uvicorn_options

pytestmark = pytest.mark.unit


def test_defaults_suit_nginx_on_the_same_machine() -> None:
    settings = Settings.from_env({})
    assert settings.trusted_proxies == ("127.0.0.1", "::1")
    assert (settings.log_format, settings.log_level) == ("text", "info")
    assert settings.shutdown_timeout == 20
    assert (
        settings.login_max_failures_per_account,
        settings.login_max_failures_per_address,
        settings.login_window_seconds,
    ) == (10, 50, 900)


def test_values_are_taken() -> None:
    settings = Settings.from_env(
        {
            "CONFHUB_TRUSTED_PROXIES": " 10.0.0.5 , 192.168.10.0/24,::1",
            "CONFHUB_LOG_FORMAT": "JSON",
            "CONFHUB_LOG_LEVEL": "warning",
            "CONFHUB_SHUTDOWN_TIMEOUT": "45",
            "CONFHUB_LOGIN_MAX_FAILURES_PER_ADDRESS": "20",
        }
    )
    assert settings.trusted_proxies == ("10.0.0.5", "192.168.10.0/24", "::1")
    assert (settings.log_format, settings.log_level) == ("json", "warning")
    assert (settings.shutdown_timeout, settings.login_max_failures_per_address) == (45, 20)
    assert Settings.from_env({"CONFHUB_TRUSTED_PROXIES": "*"}).trusted_proxies == ("*",)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONFHUB_TRUSTED_PROXIES", "nginx.local"),
        ("CONFHUB_TRUSTED_PROXIES", "10.0.0.300"),
        ("CONFHUB_LOG_FORMAT", "xml"),
        ("CONFHUB_LOG_LEVEL", "loud"),
        ("CONFHUB_SHUTDOWN_TIMEOUT", "0"),
        ("CONFHUB_SHUTDOWN_TIMEOUT", "soon"),
        ("CONFHUB_LOGIN_MAX_FAILURES_PER_ADDRESS", "-1"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({variable: value})
    message = str(error.value)
    assert message.startswith(f"{variable}:") and "\n" not in message


def test_serve_passes_them_to_uvicorn() -> None:
    settings = Settings.from_env(
        {
            "CONFHUB_TRUSTED_PROXIES": "10.0.0.5",
            "CONFHUB_LOG_FORMAT": "json",
            "CONFHUB_SHUTDOWN_TIMEOUT": "12",
        }
    )
    options = uvicorn_options(settings, host="127.0.0.1", port=8001)
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["10.0.0.5"]
    assert options["timeout_graceful_shutdown"] == 12
    # uvicorn refuses frames far past the live channel's cap before reading them whole.
    assert options["ws_max_size"] == 64 * 1024
    larger = settings.with_overrides(ws_max_message_bytes=100_000)
    assert uvicorn_options(larger, host="127.0.0.1", port=8001)["ws_max_size"] == 400_000
    assert options["access_log"] is False  # confhub.access replaces it
    # Idle connections are closed (tests/integration/system/test_serve.py shows it).
    assert options["http"] == "confhub.system.connections:HeaderDeadlineProtocol"
    assert options["timeout_keep_alive"] == 5
    assert (options["ws_ping_interval"], options["ws_ping_timeout"]) == (20.0, 20.0)
    assert options["log_config"]["handlers"]["stderr"]["formatter"] == "json"
