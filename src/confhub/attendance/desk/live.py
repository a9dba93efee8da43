"""The desk's messages on the live channel (`confhub.attendance.live` dispatches them here): a
point's `incident`, and its `announcement_seen` / `announcement_ack`. Each is answered with
`{"type": "ack", "id", "version"}` once committed; a repeated id gets the same ack.

Receipts are stored last in the meeting's writer queue (`writer.Priority.BACKGROUND`), behind the
roll call's check-ins and the desk's work, so the socket does not wait for them: it reads on, and
a check-in sent after a receipt is stored (and acknowledged) first. The receipt's ack, or the
error refusing it, follows once it is stored; acks name what they answer, in any order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from confhub.attendance.access import Access
from confhub.attendance.desk.announcements import Receipt
from confhub.attendance.desk.schemas import AnnouncementReceiptWrite, IncidentReport, decode
from confhub.attendance.desk.writer import DeskWriter
from confhub.core.errors import ConfhubError, InvalidInputError, PermissionDeniedError
from confhub.core.i18n import N_
from confhub.core.outages import outage_of

logger = logging.getLogger("confhub.live")

NOT_YOUR_POINT = N_("You may only answer for your own connection point")

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class Conversation(Protocol):
    """What a handler needs of the live connection it answers on."""

    meeting_id: int
    desk: DeskWriter
    access: Access

    async def _send(self, message: dict[str, Any]) -> None: ...


def handlers(conversation: Conversation) -> dict[str, Handler]:
    """The desk's message types and their handlers on one connection."""

    async def incident(message: dict[str, Any]) -> None:
        data: IncidentReport = decode(message, IncidentReport)
        data.point_id = _point_of(conversation.access.point_ids, data.point_id)
        outcome = await conversation.desk.report(
            conversation.meeting_id, conversation.access.actor, data
        )
        await conversation._send(
            {
                "type": "ack",
                "id": outcome.incident.incident_id,
                "version": outcome.incident.version,
                "state": outcome.incident.state,
                "duplicate": not outcome.changed,
            }
        )

    def receipt(acknowledged: bool) -> Handler:
        async def answer(message: dict[str, Any]) -> None:
            data: AnnouncementReceiptWrite = decode(
                {"announcement_id": message.get("announcement_id")}, AnnouncementReceiptWrite
            )
            points = conversation.access.point_ids
            if points is None:  # a board: announcements are the points' to acknowledge
                raise PermissionDeniedError(NOT_YOUR_POINT)
            point_id = _point_of(points, message.get("point_id"))
            # Queued now, in the order the receipts came; answered once stored.
            stored = conversation.desk.queue_receipt(
                conversation.meeting_id,
                Receipt(conversation.access.actor, point_id, data.announcement_id, acknowledged),
            )
            task = asyncio.create_task(
                _answer_when_stored(conversation, data.announcement_id, stored)
            )
            _answering.add(task)
            task.add_done_callback(_answering.discard)

        return answer

    return {
        "incident": incident,
        "announcement_seen": receipt(False),
        "announcement_ack": receipt(True),
    }


# Receipts being stored, each to be answered on its socket (kept here so none is collected).
_answering: set[asyncio.Task[None]] = set()


async def _answer_when_stored(
    conversation: Conversation, announcement_id: str, stored: Awaitable[int | None]
) -> None:
    """Send a receipt's ack once stored, or the error refusing it (as the live channel answers
    any message it could not take: the HTTP code, or "send it again" when nothing was stored)."""
    try:
        version = await stored
    except ConfhubError as exc:
        answer: dict[str, Any] = {
            "type": "error",
            "detail": exc.detail,
            "status_code": exc.status_code,
            "id": announcement_id,
        }
    except Exception as exc:
        dependency = outage_of(exc)
        if dependency is not None:
            logger.warning("receipt of meeting %s: %s is down", conversation.meeting_id, dependency)
            detail = f"could not be stored now: {dependency} is not answering; send it again"
        elif isinstance(exc, SQLAlchemyError):
            logger.exception("receipt of meeting %s failed", conversation.meeting_id)
            detail = "could not be stored now; send it again"
        else:
            logger.exception("receipt of meeting %s failed", conversation.meeting_id)
            return
        answer = {"type": "error", "detail": detail, "retry": True, "id": announcement_id}
    else:
        answer = {"type": "ack", "id": announcement_id, "version": version}
    try:
        await conversation._send(answer)
    except Exception as exc:  # the socket is gone; its client sends the receipt again
        logger.debug("receipt answer not sent: %r", exc)


def _point_of(point_ids: frozenset[int] | None, named: Any) -> int:
    """The point a message is for: the one it names, or the socket's only point."""
    if named is None and point_ids is not None and len(point_ids) == 1:
        return next(iter(point_ids))
    if isinstance(named, bool) or not isinstance(named, int) or named < 1:
        raise InvalidInputError("point_id", N_("say which point_id the message is for"))
    if point_ids is not None and named not in point_ids:
        raise PermissionDeniedError(NOT_YOUR_POINT)
    return named
