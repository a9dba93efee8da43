"""Snapshots of a meeting's live state, read once for every socket that asks at the same time.

Fifty boards opening together (the secretariat's screens at 8 a.m., or every board coming back
after a restart) would each read and encode all 3,321 points of a national meeting: fifty
copies held at once cost a process some 60 MiB and a second of work. Sockets that ask for the
same view while one is being read instead share the next read, as check-ins share a commit
(`writer.py`); that read starts after each of them asked, so it is at least as new as what each
has missed, and each gets the same encoded frame.

Point clients each see their own point, so no two ask for the same view; but 3,321 of them
connect within half a minute (and at once after a network failure), and a snapshot of one
point cost seven queries. The points of a meeting asking while one read runs are read together
in the next: the same seven queries for all of them, one version, each its own frame. At the
rush's pace (110 a second) a read still served one or two, so a read of points waits
`GATHER_POINTS_FOR` after the first asks, for those arriving meanwhile.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from litestar.serialization import encode_json

from confhub.attendance.desk.state import desk_state
from confhub.attendance.presence import HEARTBEAT_EVERY
from confhub.attendance.views import point_snapshots, snapshot
from confhub.core.errors import NotFoundError
from confhub.core.i18n import N_
from confhub.meetings.models import Meeting

# What a socket sees: a board (None) or its points.
View = frozenset[int] | None
# (meeting, with the chairs' phones, a board): the views read together.
Batch = tuple[int, bool, bool]
# A snapshot message as JSON text, and its version.
Encoded = tuple[int, str]
# How long a read of point snapshots waits for other points after the first asks (a board's
# read never waits: boards are few, and one waiting on its page is a person).
GATHER_POINTS_FOR = 0.02


@dataclass
class _Asked:
    """The views asked for while the previous read of their batch ran, and their answer."""

    answer: asyncio.Future[dict[View, Encoded]]
    views: set[View] = field(default_factory=set)


class SnapshotReads:
    """One read per batch at a time; whoever asks meanwhile waits for the next one."""

    def __init__(self, db_config: Any) -> None:
        self.db_config = db_config
        self._next: dict[Batch, _Asked] = {}
        self._readers: dict[Batch, asyncio.Task[None]] = {}
        self.gather_points_for = GATHER_POINTS_FOR

    async def read(
        self, meeting_id: int, point_ids: frozenset[int] | None, with_phones: bool
    ) -> Encoded:
        """The snapshot message of a view as JSON text, and its version."""
        batch = (meeting_id, with_phones, point_ids is None)
        asked = self._next.get(batch)
        if asked is None:
            answer = asyncio.get_running_loop().create_future()
            # Retrieved here, so a read that fails after its sockets left is not logged again.
            answer.add_done_callback(lambda f: f.cancelled() or f.exception())
            asked = self._next[batch] = _Asked(answer)
            if batch not in self._readers:
                self._readers[batch] = asyncio.create_task(
                    self._drain(batch), name=f"confhub-snapshot-{meeting_id}"
                )
        asked.views.add(point_ids)
        return (await asyncio.shield(asked.answer))[point_ids]

    async def _drain(self, batch: Batch) -> None:
        try:
            if not batch[2] and self.gather_points_for > 0:
                await asyncio.sleep(self.gather_points_for)
            while (asked := self._next.pop(batch, None)) is not None:
                try:
                    result = await self._read(batch, frozenset(asked.views))
                except Exception as exc:
                    asked.answer.set_exception(exc)
                else:
                    asked.answer.set_result(result)
        finally:
            # No await between the last empty pop and here: a new request starts a new reader.
            del self._readers[batch]

    async def _read(self, batch: Batch, views: frozenset[View]) -> dict[View, Encoded]:
        meeting_id, with_phones, board = batch
        async with self.db_config.get_session() as session:
            meeting = await session.get(Meeting, meeting_id)
            if meeting is None:
                raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
            if board:
                message = await snapshot(session, meeting, None, with_phones)
                message.update(await desk_state(session, meeting_id, None))
                return {None: _encode(message)}
            asked = [view for view in views if view is not None]
            messages = await point_snapshots(session, meeting, asked)
            desk = await desk_state(session, meeting_id, frozenset().union(*asked))
        return {view: _encode(messages[view] | _own_desk(desk, view)) for view in asked}


def _own_desk(desk: dict[str, list[dict[str, Any]]], point_ids: frozenset[int]) -> dict[str, Any]:
    """The incidents and announcements of these points, out of those of several clients."""
    return {
        name: [item for item in items if item["point_id"] in point_ids]
        for name, items in desk.items()
    }


def _encode(message: dict[str, Any]) -> Encoded:
    message["heartbeat_every_ms"] = int(HEARTBEAT_EVERY * 1000)
    return int(message["version"]), encode_json(message).decode("utf-8")
