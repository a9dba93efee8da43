"""The notice worker: one asyncio task in every serve process, started and stopped with the
app, passing over the outbox (confhub.notices.outbox) once a second or at once while there is
more to send. Several processes share the work through the outbox's leases."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from confhub.core.tasks import cancelled
from confhub.notices.outbox import Outbox, Transports
from confhub.notices.policy import NoticePolicy
from confhub.notices.transports import SmtpTransport, WebhookTransport
from confhub.settings import Settings

logger = logging.getLogger("confhub.notices")

IDLE_SECONDS = 1.0
ERROR_SECONDS = 5.0


def transports_of(settings: Settings) -> Transports:
    """The channels the settings configure."""
    email = SmtpTransport(settings.smtp_url, settings.mail_from) if settings.smtp_url else None
    webhook = (
        WebhookTransport(settings.notify_webhook_url, settings.notify_webhook_secret or "")
        if settings.notify_webhook_url
        else None
    )
    return Transports(email=email, webhook=webhook)


class NoticeWorker:
    """Runs passes until stopped; a pass that fails (the database is away) is logged and tried
    again a little later."""

    def __init__(self, settings: Settings, session_factory: Callable[[], Any]) -> None:
        self.outbox = Outbox(NoticePolicy.of(settings), transports_of(settings))
        self.session_factory = session_factory
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the loop (the app's startup)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="confhub-notices")

    async def stop(self) -> None:
        """Stop the loop (the app's shutdown); a send in progress is abandoned to its lease."""
        task, self._task = self._task, None
        await cancelled(task)

    async def _run(self) -> None:
        while True:
            try:
                async with self.session_factory() as session:
                    result = await self.outbox.deliver_due(session)
                pause = 0.0 if result.claimed else IDLE_SECONDS
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("notice worker pass failed; trying again shortly")
                pause = ERROR_SECONDS
            await asyncio.sleep(pause)
