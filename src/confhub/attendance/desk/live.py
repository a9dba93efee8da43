"""The desk's messages on the live channel (`confhub.attendance.live` dispatches them here): a
point's `incident`, and its `announcement_seen` / `announcement_ack`. Each is answered with
`{"type": "ack", "id", "version"}` once committed; a repeated id gets the same ack.

The live channel runs these handlers without holding up the socket
(`live.ANSWERED_WHEN_STORED`): incidents wait for the desk's turn in the meeting's writer queue
and receipts come last in it (`writer.Priority.BACKGROUND`), behind the roll call's check-ins, and
a check-in sent after them is stored (and acknowledged) first. Acks name what they answer, in
any order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from confhub.attendance.access import Access
from confhub.attendance.desk.announcements import Receipt
from confhub.attendance.desk.schemas import AnnouncementReceiptWrite, IncidentReport, decode
from confhub.attendance.desk.writer import DeskWriter
from confhub.core.errors import InvalidInputError, PermissionDeniedError
from confhub.core.i18n import N_

NOT_YOUR_POINT = N_("You may only answer for your own connection point")

# A message's handler, given the connection it came on (a `Conversation`) and the message.
Handler = Callable[[Any, dict[str, Any]], Awaitable[None]]


class Conversation(Protocol):
    """What a handler needs of the live connection it answers on."""

    meeting_id: int
    desk: DeskWriter
    access: Access

    async def _send(self, message: dict[str, Any]) -> None: ...


async def incident(conversation: Conversation, message: dict[str, Any]) -> None:
    """A point's incident report, answered with its ack once stored."""
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


async def _receipt(conversation: Conversation, message: dict[str, Any], acknowledged: bool) -> None:
    data: AnnouncementReceiptWrite = decode(
        {"announcement_id": message.get("announcement_id")}, AnnouncementReceiptWrite
    )
    points = conversation.access.point_ids
    if points is None:  # a board: announcements are the points' to acknowledge
        raise PermissionDeniedError(NOT_YOUR_POINT)
    point_id = _point_of(points, message.get("point_id"))
    version = await conversation.desk.queue_receipt(
        conversation.meeting_id,
        Receipt(conversation.access.actor, point_id, data.announcement_id, acknowledged),
    )
    await conversation._send({"type": "ack", "id": data.announcement_id, "version": version})


async def announcement_seen(conversation: Conversation, message: dict[str, Any]) -> None:
    """A point saw an announcement."""
    await _receipt(conversation, message, False)


async def announcement_ack(conversation: Conversation, message: dict[str, Any]) -> None:
    """A point acknowledged an announcement."""
    await _receipt(conversation, message, True)


# The desk's message types and their handlers, one table for every connection (a table of
# closures per connection cost each point socket ~1 KiB; issue 20).
HANDLERS: dict[str, Handler] = {
    "incident": incident,
    "announcement_seen": announcement_seen,
    "announcement_ack": announcement_ack,
}


def _point_of(point_ids: frozenset[int] | None, named: Any) -> int:
    """The point a message is for: the one it names, or the socket's only point."""
    if named is None and point_ids is not None and len(point_ids) == 1:
        return next(iter(point_ids))
    if isinstance(named, bool) or not isinstance(named, int) or named < 1:
        raise InvalidInputError("point_id", N_("say which point_id the message is for"))
    if point_ids is not None and named not in point_ids:
        raise PermissionDeniedError(NOT_YOUR_POINT)
    return named
