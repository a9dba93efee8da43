"""The production path, for real: `confhub serve` processes on PostgreSQL and Redis behind
Debian's nginx running the project's own site template (deploy/nginx/), with TLS.

`stack` clones the run's PostgreSQL template with the demo's Thanh Hóa seed, flushes a Redis
database no concurrent run uses (tests.helpers.services), starts two `confhub serve` processes
on free ports (JSON logs, 127.0.0.1 trusted as the proxy, sign-ins limited per minute) and
nginx on a free high port in front of them, with a self-signed certificate and per-address
limits low enough to flood (`NGINX_LIMITS`). Tests reach the
processes through nginx (`stack.url`) or one by one (`stack.processes[i].url`, as Prometheus
scrapes them).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from confhub.core.templating import resource_dir
from confhub.demo import DemoSeed
from tests.helpers.apps import TEST_SECRET
from tests.helpers.databases import PostgresTemplate, postgres_template, seed_database
from tests.helpers.processes import ServedProcess, clean_env, start_all
from tests.helpers.services import (
    REDIS_URL,
    exclusive_redis_db,
    flush_redis,
    free_port,
    require_redis,
    skip_or_fail,
)

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
LOGIN_RATE_LIMIT = 6
# nginx's per-address limits in the stack, lower than production's so a test floods them.
NGINX_LIMITS = {
    "ws_connections_per_address": 12,
    "ws_handshakes_per_second": 10,
    "ws_handshake_burst": 20,
    "signins_per_minute": 30,
    "signin_burst": 10,
}


def nginx_binary() -> str:
    """Debian's nginx (`.ci/run` installs it); skips or fails where it is missing."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        skip_or_fail("nginx is not installed (apt-get install -y nginx)")
    assert found is not None
    return found


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), made with the openssl command."""
    if shutil.which("openssl") is None:
        skip_or_fail("openssl is not installed (apt-get install -y openssl)")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def render_site(addresses: list[str], **placeholders: str) -> str:
    """deploy/nginx/confhub.conf.template rendered by the project's own deploy/nginx/render.sh."""
    if shutil.which("envsubst") is None:
        skip_or_fail("envsubst is not installed (apt-get install -y gettext-base)")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "NGINX_APP_ADDRESSES": " ".join(addresses),
    }
    env |= {
        name if name.startswith("CONFHUB_") else f"NGINX_{name.upper()}": value
        for name, value in placeholders.items()
    }
    result = subprocess.run(
        ["sh", str(DEPLOY / "nginx" / "render.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert "${NGINX_" not in result.stdout.split("upstream confhub_app", 1)[1]
    return result.stdout


def nginx_conf(folder: Path, site: Path) -> str:
    """A minimal main configuration around the project's site, for a private nginx."""
    mime_types = Path("/etc/nginx/mime.types")
    return f"""
daemon off;
master_process on;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
user root;
events {{ worker_connections 512; }}
http {{
    {"include " + str(mime_types) + ";" if mime_types.exists() else ""}
    default_type application/octet-stream;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {site};
}}
"""


@dataclass
class Nginx:
    """Debian's nginx running the rendered site from a private prefix."""

    folder: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, port: int) -> None:
        """Run it and wait for the port to answer."""
        conf = self.folder / "nginx.conf"
        check = subprocess.run(
            [nginx_binary(), "-t", "-p", str(self.folder), "-c", str(conf)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(
            [nginx_binary(), "-p", str(self.folder), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "stderr.log").open("wb"),
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError((self.folder / "stderr.log").read_text())
            try:
                with socket_to(port):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("nginx did not start")

    def stop(self) -> None:
        """SIGQUIT: nginx's graceful stop."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def access_log(self) -> list[dict[str, Any]]:
        """nginx's JSON access lines (the site's `confhub_json` format)."""
        path = self.folder / "logs" / "confhub.access.log"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def socket_to(port: int) -> Any:
    """A connected TCP socket to 127.0.0.1:port (a context manager)."""
    import socket

    return socket.create_connection(("127.0.0.1", port), timeout=1)


@dataclass
class Stack:
    """nginx in front of two confhub processes on PostgreSQL and Redis."""

    url: str
    processes: list[ServedProcess]
    nginx: Nginx
    seed: DemoSeed
    database_url: str
    redis_url: str
    cert: Path

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts exactly the stack's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An HTTPS client talking to nginx."""
        return httpx.AsyncClient(base_url=self.url, verify=self.ssl_context(), **kwargs)

    def ws_url(self, meeting_id: int) -> str:
        """The live channel of a meeting, through nginx."""
        return self.url.replace("https://", "wss://", 1) + f"/ws/meetings/{meeting_id}"

    def process_by_pid(self, pid: int | str) -> ServedProcess:
        """The process that reported itself with `X-Confhub-Process`."""
        for process in self.processes:
            if process.pid == int(pid):
                return process
        raise AssertionError(f"no process {pid} in the stack")


@pytest.fixture(scope="session")
def thanh_hoa_template(run_dir: Path, pytestconfig: pytest.Config) -> PostgresTemplate:
    """The run's PostgreSQL template for the stack: migrated, Thanh Hóa's units, the demo's seed."""
    run_id: str = pytestconfig.confhub_run_id  # type: ignore[attr-defined]
    return postgres_template(
        run_dir, run_id, "thanh_hoa", lambda url: seed_database(url, province=38)
    )


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The stacks' self-signed certificate and key, made once per worker."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def stack(
    thanh_hoa_template: PostgresTemplate,
    certificate: tuple[Path, Path],
    own_redis_url: str,
    tmp_path: Path,
) -> Iterator[Stack]:
    """A PostgreSQL database of its own seeded like the demo, two processes and nginx: for a
    test that stops a process, floods a limit or counts in /metrics what it did."""
    nginx_binary()  # skip or fail before building anything
    with thanh_hoa_template.clone() as postgres_url:
        assert thanh_hoa_template.seed is not None
        seed = thanh_hoa_template.seed
        yield from _stack(postgres_url, seed, own_redis_url, certificate, tmp_path)


@pytest.fixture(scope="module")
def shared_stack(
    thanh_hoa_template: PostgresTemplate,
    certificate: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """One stack for the module's tests that leave it as they found it for the others: no
    process stopped, no limit of nginx or of sign-ins reached, no exact count of /metrics
    asserted. Starting a stack (two processes, nginx) costs more than most of its tests."""
    nginx_binary()
    with (
        thanh_hoa_template.clone() as postgres_url,
        exclusive_redis_db(require_redis(REDIS_URL)) as redis_url,
    ):
        assert thanh_hoa_template.seed is not None
        seed = thanh_hoa_template.seed
        flush_redis(redis_url)
        try:
            tmp_path = tmp_path_factory.mktemp("stack")
            yield from _stack(postgres_url, seed, redis_url, certificate, tmp_path)
        finally:
            flush_redis(redis_url)


def _stack(
    postgres_url: str,
    seed: DemoSeed,
    redis_url: str,
    certificate: tuple[Path, Path],
    tmp_path: Path,
) -> Iterator[Stack]:
    cert, key = certificate
    nginx_port = free_port()
    url = f"https://127.0.0.1:{nginx_port}"
    env = clean_env(
        CONFHUB_DATABASE_URL=postgres_url,
        CONFHUB_REDIS_URL=redis_url,
        CONFHUB_SECRET_KEY=TEST_SECRET,
        CONFHUB_BASE_URL=url,
        CONFHUB_MEDIA_DIR=str(tmp_path / "media"),
        CONFHUB_DEFAULT_PROVINCE="38",
        CONFHUB_LOG_FORMAT="json",
        CONFHUB_TRUSTED_PROXIES="127.0.0.1",
        CONFHUB_LOGIN_MAX_FAILURES_PER_ADDRESS=str(LOGIN_RATE_LIMIT),
        CONFHUB_SHUTDOWN_TIMEOUT="10",
    )
    processes = [ServedProcess(name, free_port(), env, tmp_path) for name in ("a", "b")]
    folder = tmp_path / "nginx"
    (folder / "logs").mkdir(parents=True)
    site = folder / "confhub.conf"
    site.write_text(
        render_site(
            [f"127.0.0.1:{p.port}" for p in processes],
            server_name="127.0.0.1",
            http_listen=f"127.0.0.1:{free_port()}",
            https_listen=f"127.0.0.1:{nginx_port}",
            tls_certificate=str(cert),
            tls_certificate_key=str(key),
            static_root=str(resource_dir("static")),
            log_dir=str(folder / "logs"),
            **{name: str(value) for name, value in NGINX_LIMITS.items()},
        )
    )
    (folder / "nginx.conf").write_text(nginx_conf(folder, site))
    nginx = Nginx(folder)
    try:
        start_all(processes)
        nginx.start(nginx_port)
        yield Stack(
            url=url,
            processes=processes,
            nginx=nginx,
            seed=seed,
            database_url=postgres_url,
            redis_url=redis_url,
            cert=cert,
        )
    finally:
        nginx.stop()
        for process in processes:
            process.stop()
