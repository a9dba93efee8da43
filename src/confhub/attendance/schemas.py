"""What the attendance API takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from confhub.core.ids import IdField
from confhub.core.text import Line, Text

# The most delegates one point may report present.
MAX_DELEGATES = 100_000


class CheckinWrite(msgspec.Struct):
    """A roll-call answer: `present` with the number of delegates, or `absent` with a reason.

    Send the same `idempotency_key` again (e.g. after a dropped connection) and the first stored
    answer comes back with 200 instead of 201.
    """

    point_id: IdField
    status: Literal["present", "absent"]
    idempotency_key: Annotated[str, Meta(min_length=1, max_length=100), Line]
    delegates_present: Annotated[int, Meta(ge=0, le=MAX_DELEGATES)] | None = None
    # Both typed in text areas: line breaks allowed.
    reason: Annotated[str, Meta(max_length=2000), Text] | None = None
    note: Annotated[str, Meta(max_length=2000), Text] | None = None


class CheckinRead(msgspec.Struct):
    """A stored roll-call answer and the attendance version it produced."""

    id: int
    point_id: int
    status: str
    delegates_present: int | None
    reason: str | None
    note: str | None
    idempotency_key: str
    source: str
    version: int
    created_at: datetime


class AttendanceRead(msgspec.Struct):
    """The whole attendance state of a meeting at one version (the websocket's snapshot)."""

    version: int
    meeting: dict[str, Any]
    totals: dict[str, int]
    points: list[dict[str, Any]]


class RehearsalChange(msgspec.Struct):
    """Start or end the test run before a meeting."""

    action: Literal["start", "stop"]


class SignalWrite(msgspec.Struct):
    """A technician's report of the conference link at one point."""

    point_id: IdField
    signal: Literal["untested", "test_ok", "connected", "no_video", "no_audio", "disconnected"]
