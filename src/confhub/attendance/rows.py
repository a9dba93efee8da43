"""A meeting's `point_attendance` rows as plain dicts, read and written in bulk: the roll call
and the presence loop change hundreds of points per transaction with a few statements whatever
their number (ORM objects per row cost most of the time in a national roll call)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, Table, bindparam, insert, select, update

from confhub.attendance.models import PointAttendance, Presence, RollCallStatus, Signal
from confhub.db import DbSession
from confhub.meetings.models import Invitation
from confhub.points.models import ConnectionPoint

# A point's stored state and the part a roll-call answer sets.
ANSWER_FIELDS = (
    "status",
    "delegates_present",
    "reason",
    "note",
    "presiding_name",
    "presiding_position",
    "answered_at",
)
PRESENCE_FIELDS = ("presence", "rtt_ms", "seen_at")
STATE_FIELDS = (*ANSWER_FIELDS, "signal", "signal_at", *PRESENCE_FIELDS)
# Bound parameters per IN list: well under SQLite's and asyncpg's limits.
CHUNK = 500

State = dict[str, Any]


def chunks(values: Sequence[int] | Sequence[str]) -> Iterable[Sequence[Any]]:
    """`values` in slices of CHUNK, one IN list each."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def new_state(meeting_id: int, point_id: int) -> State:
    """The state of a point nobody has answered for or seen yet (no row stored)."""
    return {
        "id": None,
        "meeting_id": meeting_id,
        "point_id": point_id,
        "status": RollCallStatus.PENDING.value,
        "delegates_present": None,
        "reason": None,
        "note": None,
        "presiding_name": None,
        "presiding_position": None,
        "answered_at": None,
        "signal": Signal.UNTESTED.value,
        "signal_at": None,
        "presence": Presence.OFFLINE.value,
        "rtt_ms": None,
        "seen_at": None,
        "changed": False,
    }


def as_row(state: State) -> Any:
    """What `views.point_state()` reads of a row, from a state dict."""
    return SimpleNamespace(**{field: state[field] for field in STATE_FIELDS})


async def invited_points(
    session: DbSession, meeting_id: int, point_ids: Iterable[int]
) -> dict[int, ConnectionPoint]:
    """The points among `point_ids` invited to the meeting."""
    found: dict[int, ConnectionPoint] = {}
    for chunk in chunks(sorted(point_ids)):
        found.update(
            (point.id, point)
            for point in await session.scalars(
                _invited_points_query(), {"meeting_id": meeting_id, "point_ids": chunk}
            )
        )
    return found


# Statements of the roll call's every transaction, built once and their values bound at each
# execution: built per call, they left their SQL expression objects in reference cycles for the
# garbage collector, whose pauses stopped every socket of the process.


@functools.cache
def _invited_points_query() -> Select[ConnectionPoint]:
    return (
        select(ConnectionPoint)
        .join(Invitation, Invitation.point_id == ConnectionPoint.id)
        .where(
            Invitation.meeting_id == bindparam("meeting_id"),
            ConnectionPoint.id.in_(bindparam("point_ids", expanding=True)),
        )
    )


@functools.cache
def _states_query() -> Select[Any]:
    table = PointAttendance.__table__
    columns = [table.c[name] for name in ("id", "point_id", *STATE_FIELDS)]
    return select(*columns).where(
        table.c.meeting_id == bindparam("meeting_id"),
        table.c.point_id.in_(bindparam("point_ids", expanding=True)),
    )


async def read_states(
    session: DbSession, meeting_id: int, point_ids: Iterable[int]
) -> dict[int, State]:
    """The stored attendance rows of these points, as plain dicts keyed by point."""
    states: dict[int, State] = {}
    for chunk in chunks(sorted(point_ids)):
        rows = await session.execute(
            _states_query(), {"meeting_id": meeting_id, "point_ids": chunk}
        )
        for row in rows.mappings():
            states[row["point_id"]] = {**row, "meeting_id": meeting_id, "changed": False}
    return states


async def save_states(
    session: DbSession,
    states: dict[int, State],
    now: datetime,
    fields: Sequence[str] = ANSWER_FIELDS,
) -> None:
    """Write the changed rows: one UPDATE of `fields` for those stored, one INSERT for the
    new (every field)."""
    table: Table = PointAttendance.__table__  # type: ignore[assignment]
    changed = [state for state in states.values() if state["changed"]]
    updates = [
        {"row_id": state["id"], "updated_at": now, **{f: state[f] for f in fields}}
        for state in changed
        if state["id"] is not None
    ]
    if updates:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({field: bindparam(field) for field in (*fields, "updated_at")}),
            updates,
        )
    inserts = [
        {
            "meeting_id": state["meeting_id"],
            "point_id": state["point_id"],
            "created_at": now,
            "updated_at": now,
            **{f: state[f] for f in STATE_FIELDS},
        }
        for state in changed
        if state["id"] is None
    ]
    if inserts:
        await session.execute(insert(table), inserts)
    for state in changed:
        state["changed"] = False
