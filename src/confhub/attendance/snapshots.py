"""Snapshots of a meeting's live state, read once for every socket that asks at the same time.

Fifty boards opening together (the secretariat's screens at 8 a.m., or every board coming back
after a restart) would each read and encode all 3,321 points of a national meeting: fifty
copies held at once cost a process some 60 MiB and a second of work. Sockets that ask for the
same view while one is being read instead share the next read, as check-ins share a commit
(`writer.py`); that read starts after each of them asked, so it is at least as new as what each
has missed, and each gets the same encoded frame.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.serialization import encode_json

from confhub.attendance.desk.state import desk_state
from confhub.attendance.presence import HEARTBEAT_EVERY
from confhub.attendance.views import snapshot
from confhub.core.errors import NotFoundError
from confhub.core.i18n import N_
from confhub.meetings.models import Meeting

# (meeting, the points shown, with the chairs' phones): what makes two snapshots the same.
View = tuple[int, frozenset[int] | None, bool]


class SnapshotReads:
    """One read per view at a time; whoever asks meanwhile waits for the next one."""

    def __init__(self, db_config: Any) -> None:
        self.db_config = db_config
        self._next: dict[View, asyncio.Future[tuple[int, str]]] = {}
        self._readers: dict[View, asyncio.Task[None]] = {}

    async def read(
        self, meeting_id: int, point_ids: frozenset[int] | None, with_phones: bool
    ) -> tuple[int, str]:
        """The snapshot message of a view as JSON text, and its version."""
        view = (meeting_id, point_ids, with_phones)
        waiting = self._next.get(view)
        if waiting is None:
            waiting = asyncio.get_running_loop().create_future()
            # Retrieved here, so a read that fails after its sockets left is not logged again.
            waiting.add_done_callback(lambda f: f.cancelled() or f.exception())
            self._next[view] = waiting
            if view not in self._readers:
                self._readers[view] = asyncio.create_task(
                    self._drain(view), name=f"confhub-snapshot-{meeting_id}"
                )
        return await asyncio.shield(waiting)

    async def _drain(self, view: View) -> None:
        try:
            while (waiting := self._next.pop(view, None)) is not None:
                try:
                    result = await self._read(view)
                except Exception as exc:
                    waiting.set_exception(exc)
                else:
                    waiting.set_result(result)
        finally:
            # No await between the last empty pop and here: a new request starts a new reader.
            del self._readers[view]

    async def _read(self, view: View) -> tuple[int, str]:
        meeting_id, point_ids, with_phones = view
        async with self.db_config.get_session() as session:
            meeting = await session.get(Meeting, meeting_id)
            if meeting is None:
                raise NotFoundError(N_("No meeting %(id)s"), id=meeting_id)
            message = await snapshot(session, meeting, point_ids, with_phones)
            message.update(await desk_state(session, meeting_id, point_ids))
        message["heartbeat_every_ms"] = int(HEARTBEAT_EVERY * 1000)
        return int(message["version"]), encode_json(message).decode("utf-8")
