"""How `confhub serve` runs uvicorn (the command itself builds the app: confhub.cli): proxy
headers from the trusted proxies only, confhub's logs, idle connections closed, and a graceful
stop.

Idle connections: a connection has `CONFHUB_HEADER_TIMEOUT` seconds (10) to send a request's
headers, from its opening or its previous response (confhub.system.connections); a kept-alive
connection with nothing more to ask is closed `KEEP_ALIVE_SECONDS` after its last response; a
websocket whose client stops answering pings is closed within `WS_PING_SECONDS` twice over.

On SIGTERM uvicorn stops accepting connections, closes every websocket with 1012 (service
restart, so live clients reconnect through the balancer to another process), lets in-flight
requests finish for up to `CONFHUB_SHUTDOWN_TIMEOUT` seconds, then runs the app's shutdown
(which closes any socket still registered with the hub, with the same 1012) and exits.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from confhub.settings import Settings
from confhub.system.logs import logging_config

# Objects a young collection waits for (CPython's default is 700). See tune_garbage_collector.
GC_YOUNG_THRESHOLD = 50_000

# uvicorn's own default, said here: nginx's upstream keep-alive (deploy/nginx) must be shorter.
KEEP_ALIVE_SECONDS = 5
# A ping every 20 s, and the connection closed when its answer takes 20 s more.
WS_PING_SECONDS = 20.0
HTTP_PROTOCOL = "confhub.system.connections:HeaderDeadlineProtocol"
# uvicorn's "websockets-sansio" protocol, holding less per open socket.
WS_PROTOCOL = "confhub.system.connections:LeanWebSocketProtocol"

# Same value as confhub.system.metrics.MULTIPROCESS_ENV; not imported from there so this
# process sets it before prometheus_client is first imported.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def uvicorn_options(settings: Settings, *, host: str, port: int) -> dict[str, Any]:
    """The keyword arguments of `uvicorn.run` for these settings."""
    return {
        "host": host,
        "port": port,
        # libuv's event loop and httptools' parser, both in C: the rush of a national roll call
        # (3,321 phones connecting within half a minute) is mostly handshakes and small frames.
        "loop": "uvloop",
        "http": HTTP_PROTOCOL,
        "ws": WS_PROTOCOL,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "ws_ping_interval": WS_PING_SECONDS,
        "ws_ping_timeout": WS_PING_SECONDS,
        "proxy_headers": True,
        "forwarded_allow_ips": list(settings.trusted_proxies),
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        # A frame far past the message cap is refused (1009) before it is read whole; one just
        # past it still gets the live channel's readable error, and the socket stays open.
        "ws_max_size": max(64 * 1024, 4 * settings.ws_max_message_bytes),
        # Live messages are a few dozen bytes (a board's batch a few KiB): permessage-deflate
        # would save little and costs each socket its compressor's state, about 42 KiB (140 MiB
        # for a national roll call's 3,321 points; docs/performance.md).
        "ws_per_message_deflate": False,
        "log_config": logging_config(settings.log_format, settings.log_level),
        "log_level": settings.log_level,
        # confhub.access logs every request with its id and masked tokens instead.
        "access_log": False,
    }


def prepare_process(settings: Settings) -> None:
    """What a serving process sets once, before its first connection (each worker too)."""
    from confhub.system.connections import HeaderDeadlineProtocol

    HeaderDeadlineProtocol.header_timeout = float(settings.header_timeout)
    tune_garbage_collector()


def tune_garbage_collector() -> None:
    """Keep the cyclic garbage collector's pauses short and rare in a serving process.

    With 3,321 live sockets a process holds some 700,000 objects; a full collection walks
    all of them and stopped the national roll call for up to 0.6 s, several times a minute
    (docs/performance.md). The objects startup built (modules, the app, mappers) are frozen
    out of every collection, and young collections wait for 50,000 new objects instead of
    700: in-flight objects then mostly die before they are promoted, so the old generation
    fills, and a full collection comes, far less often.
    """
    from confhub.system import metrics

    metrics.instrument_gc()
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


@contextlib.contextmanager
def shared_metrics_dir() -> Iterator[Path]:
    """prometheus_client's multiprocess folder: the operator's (emptied first) or a temporary
    one removed on exit."""
    configured = os.environ.get(MULTIPROCESS_ENV)
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="confhub-metrics-"))
    os.environ[MULTIPROCESS_ENV] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
