"""The speaking queue as live clients see it: the open requests in order with the one at the
microphone, one `speaking` delta per change, and each point's own view of it (its requests and
its place, nothing of the others')."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from confhub.attendance.speaking.models import OPEN, SpeakingRequest, SpeakingState
from confhub.db import DbSession

# The key of a delta naming the points it concerns (the hub sends it to those and the boards).
TO_POINTS = "to_points"
# The key of a delta telling of several requests stored together (each point sees its own).
SEVERAL = "requests"


def item(row: SpeakingRequest) -> dict[str, Any]:
    """One request as clients see it."""
    return {
        "request_id": row.request_id,
        "point_id": row.point_id,
        "topic": row.topic,
        "minutes": row.minutes,
        "speaker": row.speaker,
        "state": row.state,
        "position": row.position,
        "requested_at": row.created_at.isoformat() if row.created_at else None,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "reason": row.reason,
        "document": row.document_name,
        "document_size": row.document_size,
    }


async def open_requests(session: DbSession, meeting_id: int) -> list[SpeakingRequest]:
    """The request at the microphone, then those waiting in their order."""
    rows = await session.scalars(
        select(SpeakingRequest).where(
            SpeakingRequest.meeting_id == meeting_id, SpeakingRequest.state.in_(OPEN)
        )
    )
    return sorted(rows, key=order)


def order(row: SpeakingRequest) -> tuple[int, int, int]:
    """The speaker first, then the waiting requests by place."""
    speaking = row.state == SpeakingState.SPEAKING.value
    return (0 if speaking else 1, row.position, row.id or 0)


def state(rows: Iterable[SpeakingRequest]) -> dict[str, Any]:
    """`{"queue", "current"}` of the open requests (the snapshot's `speaking`)."""
    queue = [item(row) for row in rows]
    current = next((i["request_id"] for i in queue if i["state"] == "speaking"), None)
    return {"queue": queue, "current": current}


def delta(
    rows: list[SpeakingRequest],
    changed: SpeakingRequest | None,
    also: Iterable[SpeakingRequest] = (),
    *,
    others_moved: bool = True,
    several: list[SpeakingRequest] | None = None,
) -> dict[str, Any]:
    """A `speaking` delta's fields: the whole open queue, the request that changed (with the
    reason of a refusal), and the points concerned (those in the queue, the changed one's and
    those of `also`, e.g. a speaker whose turn the change ended). Without `others_moved` (a
    request added at the end of the queue) the other points' places did not change: only the
    changed request's point is concerned. `several`: the requests one delta tells of when a
    transaction stored more than one (`requests`; `request` is the last of them)."""
    payload = state(rows)
    concerned = {row.point_id for row in [*(rows if others_moved else ()), *also]}
    if changed is not None:
        payload["request"] = item(changed)
        concerned.add(changed.point_id)
    if several is not None and len(several) > 1:
        payload[SEVERAL] = [item(row) for row in several]
    payload[TO_POINTS] = sorted(concerned)
    return payload


def for_points(speaking: dict[str, Any], point_ids: frozenset[int]) -> dict[str, Any]:
    """What a point's client sees of the queue: only its own requests (each with its place),
    the one at the microphone only when it is its own, its best place (`position`: 1 speaks
    next) and how many turns come before it (`ahead`)."""
    own = [i for i in speaking.get("queue", ()) if i["point_id"] in point_ids]
    current = speaking.get("current")
    waiting_places = [i["position"] for i in own if i["state"] != "speaking"]
    place = min(waiting_places) if waiting_places else None
    someone_speaking = current is not None
    view: dict[str, Any] = {
        "queue": own,
        "current": current if any(i["request_id"] == current for i in own) else None,
        "position": place,
        # Turns before this point's: those waiting ahead, and the one speaking now.
        "ahead": (place - 1 + (1 if someone_speaking else 0)) if place is not None else None,
    }
    told = speaking.get(SEVERAL) or [speaking.get("request")]
    own_changes = [c for c in told if c is not None and c["point_id"] in point_ids]
    if own_changes:
        view["request"] = own_changes[-1]
    return view


def point_view(message: dict[str, Any], point_ids: frozenset[int]) -> dict[str, Any] | None:
    """A `speaking` delta as a point's client receives it (None: it does not concern it)."""
    if not set(message.get(TO_POINTS) or ()) & point_ids:
        return None
    hidden = (TO_POINTS, "queue", "current", "request", SEVERAL)
    shown = {k: v for k, v in message.items() if k not in hidden}
    return shown | for_points(message, point_ids)
