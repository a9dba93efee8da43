"""deploy/compose.yaml and deploy/Dockerfile, checked without a container engine: the
confhub.env that compose.yaml's header tells an operator to write is a valid confhub
configuration pointing at the compose services, nginx balances the app processes with the
project's own site template, every `service_healthy` dependency has a health check (the app's
asks `/readyz`), and the image installs the hash-locked requirements and runs unprivileged.
Where the compose CLI is installed (`docker compose` or `docker-compose`; neither needs a
running engine for `config`), it resolves a site's files the same way.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from confhub.settings import Settings
from tests.conftest import skip_or_fail
from tests.integration.deploy.conftest import DEPLOY, REPO

pytestmark = pytest.mark.integration

COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
TEMPLATE = DEPLOY / "nginx" / "confhub.conf.template"
SITE_PASSWORD = "compose-test-password"
SITE_SECRET = "s" * 48
# The PostgreSQL client major version each Debian release ships: the app image's pg_dump
# (`confhub db backup`) refuses a newer server.
DEBIAN_POSTGRESQL = {"bookworm": 15, "trixie": 17}


def settings_variables() -> set[str]:
    """Every CONFHUB_* name the settings module reads."""
    source = (REPO / "src" / "confhub" / "settings.py").read_text()
    return set(re.findall(r'"(CONFHUB_[A-Z_]+)"', source))


def compose_file() -> dict[str, Any]:
    """compose.yaml as YAML (anchors and `<<` merges resolved, nothing interpolated)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def site_env() -> dict[str, str]:
    """deploy/confhub.env as compose.yaml's header says to write it: the example's values, the
    header's `CONFHUB_*=` lines, PASSWORD replaced by deploy/.env's, a real secret key."""
    env: dict[str, str] = {}
    for line in (DEPLOY / "confhub.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            env[name.strip()] = value.strip()
    told = re.findall(r"^#\s+(CONFHUB_[A-Z_]+)=(\S+)\s*$", COMPOSE.read_text(), re.MULTILINE)
    assert {name for name, _ in told} >= {"CONFHUB_DATABASE_URL", "CONFHUB_REDIS_URL"}
    env.update(told)
    env["CONFHUB_DATABASE_URL"] = env["CONFHUB_DATABASE_URL"].replace(
        ":PASSWORD@", f":{SITE_PASSWORD}@"
    )
    env["CONFHUB_SECRET_KEY"] = SITE_SECRET
    return env


def app_services(services: dict[str, Any]) -> dict[str, Any]:
    """The services that run the confhub image."""
    return {
        name: service
        for name, service in services.items()
        if service.get("build", {}).get("dockerfile") == "deploy/Dockerfile"
    }


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """deploy/Dockerfile's instructions as (KEYWORD, arguments), one list per FROM stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), arguments.strip()))
    return stages


def served_port() -> int:
    """The port the image's `confhub serve` listens on."""
    command = dict(dockerfile_stages()[-1])["CMD"]
    return int(re.search(r'"--port", "(\d+)"', command).group(1))  # type: ignore[union-attr]


def test_the_documented_site_env_is_valid_and_points_at_the_services() -> None:
    services = compose_file()["services"]
    env = site_env()
    assert set(env) <= settings_variables()
    settings = Settings.from_env(env)  # the processes would start with it
    for app in app_services(services).values():
        assert app["env_file"] == "confhub.env"
        assert set(app.get("environment") or {}) <= settings_variables()

    database = make_url(settings.database_url)
    postgres = services["postgres"]["environment"]
    assert database.host == "postgres" and database.host in services
    assert (database.port, database.username) == (5432, postgres["POSTGRES_USER"])
    assert database.database == postgres["POSTGRES_DB"]
    assert "POSTGRES_PASSWORD" in postgres["POSTGRES_PASSWORD"]  # taken from deploy/.env
    redis = make_url(settings.redis_url or "")
    assert redis.host == "redis" and redis.host in services

    # Uploads land on the volume, not in a container's own layer.
    for name in ("app1", "app2", "migrate"):
        assert f"media:{settings.media_dir}" in services[name]["volumes"]
    # nginx reaches the processes from a Docker network; its forwarded scheme must be believed
    # (secure cookies, https links), so the trusted networks cover Docker's default pools.
    trusted = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]
    for pool in ("172.17.0.0/16", "172.31.0.0/16"):
        network = ipaddress.ip_network(pool)
        assert any(network.version == t.version and network.subnet_of(t) for t in trusted)  # type: ignore[arg-type]
    # nginx allows exactly the request bodies the processes allow, and names their limit.
    nginx = services["nginx"]["environment"]
    assert nginx["NGINX_MAX_BODY_SIZE"] == str(settings.max_request_body_bytes)
    assert nginx["NGINX_MAX_UPLOAD_MB"] == str(settings.max_upload_mb)


def test_nginx_balances_the_app_processes_with_the_projects_template() -> None:
    services = compose_file()["services"]
    nginx = services["nginx"]
    servers = re.findall(r"server ([\w-]+):(\d+)", nginx["environment"]["NGINX_UPSTREAM_SERVERS"])
    serving = [n for n, s in app_services(services).items() if "command" not in s]
    assert sorted(name for name, _ in servers) == sorted(serving) and len(serving) >= 2
    assert {int(port) for _, port in servers} == {served_port()}

    mounts = dict(volume.split(":", 1) for volume in nginx["volumes"])
    template = mounts["./nginx/confhub.conf.template"]
    assert template == "/etc/nginx/templates/default.conf.template:ro"
    assert (COMPOSE.parent / "nginx" / "confhub.conf.template").resolve() == TEMPLATE
    # The static files nginx serves are the ones the `static` service copies out of the image.
    static_volume = next(v for v in services["static"]["volumes"] if v.startswith("static:"))
    copied_to = static_volume.split(":")[1]
    assert copied_to in " ".join(services["static"]["command"])
    assert mounts["static"] == f"{nginx['environment']['NGINX_STATIC_ROOT']}:ro"


def test_every_healthy_dependency_has_a_health_check_and_the_apps_ask_readyz() -> None:
    services = compose_file()["services"]
    image_check = dict(dockerfile_stages()[-1]).get("HEALTHCHECK", "")
    for name, service in services.items():
        for needed, rule in (service.get("depends_on") or {}).items():
            if rule.get("condition") != "service_healthy":
                continue
            own = services[needed].get("healthcheck")
            if needed in app_services(services):
                # The image's check, unless compose replaces it with its own.
                check = " ".join(own["test"]) if own else image_check
                assert f"127.0.0.1:{served_port()}/readyz" in check, (name, needed)
            else:
                assert own and own["test"][0] == "CMD", (name, needed)
    assert services["nginx"]["depends_on"]["static"]["condition"] == (
        "service_completed_successfully"
    )


def test_the_image_installs_the_locked_requirements_and_runs_unprivileged() -> None:
    build, final = dockerfile_stages()[0], dockerfile_stages()[-1]
    installs = [args for keyword, args in build if keyword == "RUN" and "pip install" in args]
    locked = installs[0]
    assert "--require-hashes" in locked and "--no-deps" in locked
    assert "-r requirements/prod.txt" in locked
    requirements = (REPO / "requirements" / "prod.txt").read_text()
    pins = re.findall(
        r"^([A-Za-z0-9_.-]+)==\S+((?:\s*\\?\s*--hash=sha256:\w+)+)", requirements, re.M
    )
    assert pins and len(pins) == len(re.findall(r"^[A-Za-z0-9_.-]+==", requirements, re.M))
    # confhub itself comes after, without pulling anything the lock did not pin.
    assert all("--no-deps" in args for args in installs)

    keywords = [keyword for keyword, _ in final]
    user = dict(final)["USER"]
    assert user not in ("root", "0") and keywords.index("USER") < keywords.index("CMD")
    assert any(
        re.search(rf"useradd --system .*\b{user}\b", args) for k, args in final if k == "RUN"
    )

    # Every file copied from the build context (the repository's top folder) is there, and the
    # .dockerignore beside it lets it through.
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    for stage in dockerfile_stages():
        for keyword, args in stage:
            if keyword != "COPY" or args.startswith("--from"):
                continue
            for source in args.split()[:-1]:
                assert (REPO / source).exists(), source
                assert f"!{source}" in ignore, source

    bases = [args.split()[0] for keyword, args in dockerfile_stages()[-1] if keyword == "FROM"]
    debian = next(release for release in DEBIAN_POSTGRESQL if bases[0].endswith(release))
    postgres_image = compose_file()["services"]["postgres"]["image"]
    assert postgres_image.startswith(f"postgres:{DEBIAN_POSTGRESQL[debian]}-")


def compose_cli() -> list[str]:
    """The compose command installed here; skips when there is none."""
    docker = shutil.which("docker")
    if docker is not None:
        version = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if version.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy is not None:
        return [legacy]
    skip_or_fail("no compose CLI (the docker compose plugin or Debian's docker-compose)")
    raise AssertionError  # unreachable: skip_or_fail raises


def compose_config(cli: list[str], site: Path) -> subprocess.CompletedProcess[str]:
    """`compose config` on a site folder, with nothing from this process's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "POSTGRES_"))}
    return subprocess.run(
        [*cli, "-f", str(site / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=site,
    )


def test_compose_config_resolves_a_site(tmp_path: Path) -> None:
    cli = compose_cli()
    site = tmp_path / "deploy"
    site.mkdir()
    shutil.copy(COMPOSE, site / "compose.yaml")
    env = site_env()
    (site / "confhub.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))

    missing = compose_config(cli, site)  # deploy/.env not written yet
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr

    (site / ".env").write_text(f"POSTGRES_PASSWORD={SITE_PASSWORD}\n")
    result = compose_config(cli, site)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == SITE_PASSWORD
    for name in ("migrate", "app1", "app2"):
        resolved = {k: str(v) for k, v in services[name]["environment"].items()}
        assert resolved == env
        assert Settings.from_env(resolved).database_url.endswith(
            f":{SITE_PASSWORD}@postgres:5432/confhub"
        )
        assert Path(services[name]["build"]["context"]) == tmp_path  # the repository's top
    sources = {
        Path(v["source"]) if isinstance(v, dict) else Path(v.split(":")[0])
        for v in services["nginx"]["volumes"]
    }
    assert site / "nginx" / "confhub.conf.template" in sources
