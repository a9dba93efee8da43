"""The files of deploy/ hold together: the env example lists every setting (and the README
explains each), the systemd units pass `systemd-analyze verify`, compose.yaml wires what it
should, and the nginx template renders into a configuration nginx accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from confhub.settings import Settings
from tests.conftest import free_port
from tests.integration.deploy.conftest import (
    DEPLOY,
    REPO,
    nginx_binary,
    nginx_conf,
    render_site,
    self_signed_certificate,
)

pytestmark = pytest.mark.integration

SETTINGS_SOURCE = REPO / "src" / "confhub" / "settings.py"


def settings_variables() -> set[str]:
    """Every CONFHUB_* name the settings module reads."""
    return set(re.findall(r'"(CONFHUB_[A-Z_]+)"', SETTINGS_SOURCE.read_text()))


def env_example() -> dict[str, str]:
    """The assignments of deploy/confhub.env.example."""
    lines = (DEPLOY / "confhub.env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def test_env_example_lists_every_setting_and_the_readme_explains_it() -> None:
    names = settings_variables()
    assert {"CONFHUB_TRUSTED_PROXIES", "CONFHUB_LOG_FORMAT", "CONFHUB_REDIS_URL"} <= names
    example = env_example()
    assert set(example) == names
    readme = (REPO / "README.md").read_text()
    table = {name for name in names if f"| `{name}` |" in readme}
    assert table == names
    settings = Settings.from_env(example)  # every example value is one confhub accepts
    assert settings.log_format == "json" and settings.redis_url


def test_systemd_units_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    confhub = REPO / ".venv" / "bin" / "confhub"
    if not confhub.exists():
        pytest.skip("no .venv/bin/confhub to stand in for /opt/confhub/venv/bin/confhub")
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/opt/confhub/venv/bin/confhub", str(confhub))
        name = unit.name.replace("@.service", "@8001.service")
        (tmp_path / name).write_text(text)
    units = sorted(str(p) for p in tmp_path.iterdir())
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    service = (DEPLOY / "systemd" / "confhub@.service").read_text()
    assert "--port %i --no-migrate" in service and "KillSignal=SIGTERM" in service
    stop = int(re.search(r"TimeoutStopSec=(\d+)", service).group(1))  # type: ignore[union-attr]
    assert stop > int(env_example()["CONFHUB_SHUTDOWN_TIMEOUT"])


def test_compose_runs_postgres_redis_two_processes_and_nginx() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "app1", "app2", "nginx"} <= set(services)
    assert services["migrate"]["command"] == ["confhub", "db", "upgrade"]
    for name in ("app1", "app2"):
        app = services[name]
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert app["env_file"] == "confhub.env"
        grace = int(app["stop_grace_period"].rstrip("s"))
        assert grace > int(env_example()["CONFHUB_SHUTDOWN_TIMEOUT"])
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert '"serve", "--host", "0.0.0.0", "--port", "8000", "--no-migrate"' in dockerfile
    assert "--require-hashes" in dockerfile
    nginx = services["nginx"]
    template = (DEPLOY / "nginx" / "confhub.conf.template").read_text()
    placeholders = set(re.findall(r"\$\{(NGINX_[A-Z_]+)\}", template))
    assert placeholders == set(nginx["environment"])
    assert any(
        v.endswith("/etc/nginx/templates/default.conf.template:ro") for v in nginx["volumes"]
    )


def test_render_takes_the_body_limit_from_confhubs_own_setting() -> None:
    for upload_mb in ("20", "50"):
        settings = Settings(database_url="sqlite+aiosqlite://", max_upload_mb=int(upload_mb))
        site = render_site(
            ["127.0.0.1:8001"],
            server_name="hoinghi.example.gov.vn",
            CONFHUB_MAX_UPLOAD_MB=upload_mb,
        )
        assert f"client_max_body_size {settings.max_request_body_bytes};" in site
        assert f"The file is larger than the limit of {upload_mb} MB" in site
    env = {"PATH": "/usr/bin:/bin", "NGINX_APP_ADDRESSES": "127.0.0.1:8001"}
    for wrong in ({"CONFHUB_MAX_UPLOAD_MB": "20MB"}, {"NGINX_MAX_BODY_SIZE": "21m"}):
        result = subprocess.run(
            ["sh", str(DEPLOY / "nginx" / "render.sh")],
            env=env | {"NGINX_SERVER_NAME": "hoinghi.example.gov.vn"} | wrong,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode != 0 and "CONFHUB_MAX_UPLOAD_MB" in result.stderr


def test_render_needs_the_server_name() -> None:
    result = subprocess.run(
        ["sh", str(DEPLOY / "nginx" / "render.sh")],
        env={"PATH": "/usr/bin:/bin", "NGINX_APP_ADDRESSES": "127.0.0.1:8001"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0 and "NGINX_SERVER_NAME" in result.stderr


def test_the_rendered_site_is_accepted_by_nginx(tmp_path: Path) -> None:
    nginx = nginx_binary()
    cert, key = self_signed_certificate(tmp_path)
    site = tmp_path / "confhub.conf"
    site.write_text(
        render_site(
            ["127.0.0.1:8001", "127.0.0.1:8002"],
            server_name="hoinghi.example.gov.vn",
            http_listen=f"127.0.0.1:{free_port()}",
            https_listen=f"127.0.0.1:{free_port()}",
            tls_certificate=str(cert),
            tls_certificate_key=str(key),
            static_root=str(tmp_path),
            log_dir=str(tmp_path),
        )
    )
    rendered = site.read_text()
    assert "server 127.0.0.1:8001 max_fails=1 fail_timeout=10s;" in rendered
    # Exactly what the app allows with the default CONFHUB_MAX_UPLOAD_MB (20 MiB + 64 KiB).
    default = Settings(database_url="sqlite+aiosqlite://")
    assert f"client_max_body_size {default.max_request_body_bytes};" in rendered
    assert "$http_upgrade" in rendered and "$request_id" in rendered  # nginx's own, untouched
    (tmp_path / "nginx.conf").write_text(nginx_conf(tmp_path, site))
    check = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert check.returncode == 0, check.stderr
