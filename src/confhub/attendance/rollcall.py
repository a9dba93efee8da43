"""The roll call: idempotent check-ins, stored a burst per transaction with a few statements
whatever its size (`confhub.attendance.writer` gathers the bursts).

Every answer takes the meeting's next version and appends a `checkin` delta; corrections add
records, nothing is overwritten; an idempotency key already stored answers with the first
record.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, select

from confhub.accounts.principal import Principal
from confhub.attendance import events, rows
from confhub.attendance.models import CheckinRecord, EventType
from confhub.attendance.schemas import CheckinWrite
from confhub.attendance.views import point_state
from confhub.core.errors import (
    ConfhubError,
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
)
from confhub.core.i18n import N_
from confhub.core.messages import status_word
from confhub.db import DbSession
from confhub.meetings import audit
from confhub.meetings.actors import ANSWERING_STATUSES, Actor, may_act_for_point
from confhub.meetings.audit import AuditAction
from confhub.meetings.models import Meeting, MeetingStatus
from confhub.meetings.roll_call_limits import check_delegates, check_roll_call_open
from confhub.points.models import ConnectionPoint

# A point's link or chair answering for another point.
NOT_YOUR_POINT = N_("You may only answer for your own connection point")


@dataclass(frozen=True)
class CheckinOutcome:
    """The stored record, whether this call created it, and the delta to broadcast."""

    record: CheckinRecord
    created: bool
    message: dict[str, Any] | None


async def find_checkin(session: DbSession, meeting_id: int, key: str) -> CheckinRecord | None:
    """The check-in stored under an idempotency key, if any."""
    return await session.scalar(
        select(CheckinRecord).where(
            CheckinRecord.meeting_id == meeting_id,
            CheckinRecord.idempotency_key == key.strip(),
        )
    )


async def record_checkin(
    session: DbSession, meeting: Meeting, actor: Actor, data: CheckinWrite
) -> CheckinOutcome:
    """Store a roll-call answer once per idempotency key; a repeat returns the first."""
    (result,) = await store_checkins(session, meeting, [(actor, data)])
    if isinstance(result, ConfhubError):
        raise result
    return result


async def store_checkins(
    session: DbSession, meeting: Meeting, answers: Sequence[tuple[Actor, CheckinWrite]]
) -> list[CheckinOutcome | ConfhubError]:
    """Store several roll-call answers in the caller's transaction, in order, with a few
    statements whatever their number; each gets its outcome or the error that refused it.

    The meeting's version counter is taken first, so nothing another writer of this meeting
    is doing can interleave: an idempotency key stored by another process a moment ago is
    seen here, and a repeat (in the database or earlier in `answers`) returns the first
    answer.
    """
    batch = await _Batch.read(session, meeting, answers)
    for actor, data in answers:
        try:
            batch.take(actor, data)
        except ConfhubError as refusal:
            batch.results.append(refusal)
    return await batch.save()


@functools.cache
def _stored_keys_query() -> Select[CheckinRecord]:
    # Built once (see rows.py): the check-ins already stored under the keys bound as `keys`.
    return select(CheckinRecord).where(
        CheckinRecord.meeting_id == bindparam("meeting_id"),
        CheckinRecord.idempotency_key.in_(bindparam("keys", expanding=True)),
    )


@dataclass
class _Batch:
    """The answers of one transaction, and what they found stored."""

    session: DbSession
    meeting: Meeting
    now: datetime
    version: int  # the meeting's version when the transaction took it
    stored: dict[str, CheckinRecord]  # by idempotency key
    invited: dict[int, ConnectionPoint]
    states: dict[int, rows.State]
    results: list[CheckinOutcome | ConfhubError] = field(default_factory=list)
    fresh: list[tuple[int, CheckinRecord]] = field(default_factory=list)  # (index, new record)
    deltas: list[events.Delta] = field(default_factory=list)

    @classmethod
    async def read(
        cls, session: DbSession, meeting: Meeting, answers: Sequence[tuple[Actor, CheckinWrite]]
    ) -> _Batch:
        """Take the meeting's version counter, then read the keys, points and rows involved."""
        now = datetime.now(UTC)
        version = await events.lock_version(session, meeting.id)
        keys = {data.idempotency_key for _actor, data in answers}
        stored = {
            record.idempotency_key: record
            for chunk in rows.chunks(sorted(keys))
            for record in await session.scalars(
                _stored_keys_query(), {"meeting_id": meeting.id, "keys": chunk}
            )
        }
        point_ids = {data.point_id for _actor, data in answers}
        point_ids |= {record.point_id for record in stored.values()}
        invited = await rows.invited_points(session, meeting.id, point_ids)
        states = await rows.read_states(session, meeting.id, point_ids)
        return cls(session, meeting, now, version, stored, invited, states)

    def take(self, actor: Actor, data: CheckinWrite) -> None:
        """Answer one (valid by its schema): the first record of a repeated key, or a new
        record; raises what refuses it."""
        earlier = self.stored.get(data.idempotency_key)
        if earlier is not None:
            # A repeat is answered only to someone who may answer for that point.
            point = self.invited.get(earlier.point_id)
            if point is None or not may_act_for_point(actor, self.meeting, point):
                raise PermissionDeniedError(NOT_YOUR_POINT)
            self.results.append(CheckinOutcome(earlier, created=False, message=None))
            return
        point = self._point(actor, data.point_id)
        meeting = self.meeting
        if meeting.status not in ANSWERING_STATUSES and not (
            actor.source == "secretariat" and meeting.status == MeetingStatus.ENDED.value
        ):
            raise ConflictError(
                N_("The meeting is %(status)s; the roll call is closed"),
                status=status_word(meeting.status),
            )
        if meeting.status in ANSWERING_STATUSES:
            check_roll_call_open(meeting, self.now)
        if data.status == "present":
            check_delegates(meeting, "delegates_present", data.delegates_present)
        self._accept(actor, point, data)

    def _point(self, actor: Actor, point_id: int) -> ConnectionPoint:
        point = self.invited.get(point_id)
        if point is None:
            raise InvalidInputError(
                "point_id", N_("point %(id)s is not invited to this meeting"), id=point_id
            )
        if not may_act_for_point(actor, self.meeting, point):
            raise PermissionDeniedError(NOT_YOUR_POINT)
        return point

    def _accept(self, actor: Actor, point: ConnectionPoint, data: CheckinWrite) -> None:
        """A new answer: the point's state, its record with the next version, its delta."""
        meeting_id, now = self.meeting.id, self.now
        state = self.states.setdefault(point.id, rows.new_state(meeting_id, point.id))
        state.update(
            status=data.status,
            delegates_present=data.delegates_present,
            reason=data.reason,
            note=data.note,
            presiding_name=data.presiding_name,
            presiding_position=data.presiding_position,
            answered_at=now,
            changed=True,
        )
        key = data.idempotency_key
        record = CheckinRecord(
            meeting_id=meeting_id,
            point_id=point.id,
            idempotency_key=key,
            status=data.status,
            delegates_present=data.delegates_present,
            reason=data.reason,
            note=data.note,
            presiding_name=data.presiding_name,
            presiding_position=data.presiding_position,
            source=actor.source,
            actor_id=actor.principal.id if actor.principal else None,
            actor_label=actor.label,
            version=self.version + len(self.deltas) + 1,
            created_at=now,
            updated_at=now,
        )
        self.stored[key] = record
        self.fresh.append((len(self.results), record))
        self.results.append(CheckinOutcome(record, created=True, message=None))
        payload = {"point_id": point.id, **point_state(rows.as_row(state), now)}
        self.deltas.append(events.Delta(EventType.CHECKIN, payload, point_id=point.id))
        if actor.source == "secretariat" and actor.principal is not None:
            self._audit(actor.principal, point, state)

    def _audit(self, principal: Principal, point: ConnectionPoint, state: rows.State) -> None:
        """The secretariat's answers for a point (taken by phone) go to the meeting's audit."""
        audit.record(
            self.session,
            self.meeting.id,
            principal,
            AuditAction.ROLL_CALL,
            point_id=point.id,
            point=point.name,
            status=state["status"],
            delegates_present=state["delegates_present"],
            reason=state["reason"],
        )

    async def save(self) -> list[CheckinOutcome | ConfhubError]:
        """Write the new answers: rows, events (broadcast at commit) and records."""
        if not self.deltas:
            return self.results
        session = self.session
        await rows.save_states(session, self.states, self.now)
        messages = await events.append_many(
            session, self.meeting.id, self.deltas, locked_version=self.version
        )
        session.add_all(record for _index, record in self.fresh)
        await session.flush()
        for (index, record), message in zip(self.fresh, messages, strict=True):
            self.results[index] = CheckinOutcome(record, created=True, message=message)
        return self.results
