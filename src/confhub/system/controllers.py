"""`/healthz` (the process runs), `/readyz` (its database, and Redis when configured, answer) and
`/metrics` (Prometheus)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text

from confhub.system import metrics

READY_TIMEOUT_SECONDS = 3.0


class HealthController(Controller):
    """Probes for load balancers and systemd, and the metrics for Prometheus."""

    tags = ["system"]

    @get("/healthz", summary="Liveness", exclude_from_auth=True)
    async def healthz(self) -> dict[str, str]:
        """200 while the process runs."""
        return {"status": "ok"}

    @get("/readyz", summary="Readiness: database and Redis answer")
    async def readyz(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """200 when every backing service answers; 503 naming the ones that do not."""
        failures: list[str] = []
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                async with request.app.state.db_config.get_engine().connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception as exc:
            failures.append(f"database: {type(exc).__name__}: {exc}".splitlines()[0])
        redis = request.app.state.redis
        if redis is not None:
            try:
                async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                    await redis.ping()
            except Exception as exc:
                failures.append(f"redis: {type(exc).__name__}: {exc}".splitlines()[0])
        if failures:
            body: dict[str, Any] = {
                "status_code": HTTP_503_SERVICE_UNAVAILABLE,
                "detail": "not ready: " + "; ".join(failures),
            }
            return Response(
                body, status_code=HTTP_503_SERVICE_UNAVAILABLE, media_type=MediaType.JSON
            )
        checks = {"database": "ok"} | ({"redis": "ok"} if redis is not None else {})
        return Response({"status": "ready", "checks": checks}, status_code=HTTP_200_OK)

    @get(
        "/metrics",
        summary="Prometheus metrics of this process",
        exclude_from_auth=True,
        include_in_schema=False,
    )
    async def prometheus_metrics(self) -> Response[bytes]:
        """Requests, latencies, websockets, check-ins, fan-out lag and the database pool."""
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)
