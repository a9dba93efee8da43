"""Broadcast after commit: deltas appended in a transaction reach the live channel only once the
transaction is committed, and never when it is rolled back.

`events.append()` queues each delta on its session; a listener on every session's commit hands
the queue to the publisher the app put in `session.info` (the hub of that app).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from confhub.db import DbSession

logger = logging.getLogger("confhub.live")

PUBLISHER_KEY = "confhub_publisher"
_PENDING_KEY = "confhub_pending_deltas"

Publisher = Callable[[int, list[dict[str, Any]]], None]


def queue_delta(session: DbSession, meeting_id: int, message: dict[str, Any]) -> None:
    """Broadcast `message` for `meeting_id` once `session` commits."""
    pending: dict[int, list[dict[str, Any]]] = session.info.setdefault(_PENDING_KEY, {})
    pending.setdefault(meeting_id, []).append(message)


def _after_commit(session: Session) -> None:
    pending: dict[int, list[dict[str, Any]]] = session.info.pop(_PENDING_KEY, {})
    publisher: Publisher | None = session.info.get(PUBLISHER_KEY)
    if publisher is None:
        return
    for meeting_id, messages in pending.items():
        try:
            publisher(meeting_id, messages)
        except Exception:
            # Committed is committed: the request must not fail now. Boards read what was not
            # published from the database (the hub's poll).
            logger.exception("committed deltas of meeting %s not published", meeting_id)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


_installed = False


def install() -> None:
    """Register the commit/rollback listeners (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _installed = True
