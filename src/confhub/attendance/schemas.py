"""What the attendance API takes and returns, and the one schema of a roll-call answer: the
JSON body, the live channel's `checkin` message and the check-in page's form are all decoded
into `CheckinWrite`, so an answer is refused with the same words whatever door it came through.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from confhub.core.bodies import Body, first_refusal
from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_
from confhub.core.ids import IdField
from confhub.core.messages import Message
from confhub.core.text import Line, Text

# The most delegates one point may report present.
MAX_DELEGATES = 100_000
MAX_KEY = 100
MAX_TEXT = 2000
# Who presided at the point: as long as an invitation's chair name and title may be.
MAX_PRESIDING_NAME = 200
MAX_PRESIDING_POSITION = 300

# What a refused field of an answer must be (the words of the API's own refusals; a field
# breaking a text rule is told that rule instead).
MUST_BE: dict[str, Message] = {
    "point_id": Message(N_("must be the id of an invited connection point")),
    "status": Message(N_("must be present or absent")),
    "idempotency_key": Message(N_("must be 1 to %(n)s characters"), {"n": MAX_KEY}),
    "delegates_present": Message(N_("a number from 0 to %(n)s is required"), {"n": MAX_DELEGATES}),
    "reason": Message(N_("must be text of at most %(n)s characters"), {"n": MAX_TEXT}),
    "note": Message(N_("must be text of at most %(n)s characters"), {"n": MAX_TEXT}),
    "presiding_name": Message(
        N_("must be one line of at most %(n)s characters"), {"n": MAX_PRESIDING_NAME}
    ),
    "presiding_position": Message(
        N_("must be one line of at most %(n)s characters"), {"n": MAX_PRESIDING_POSITION}
    ),
}


class CheckinWrite(Body):
    """A roll-call answer: `present` with the number of delegates, or `absent` with a reason.

    `presiding_name` and `presiding_position` say who actually presided at the point when it is
    present (left out: the invited chair); the point's article names that person.

    Send the same `idempotency_key` again (e.g. after a dropped connection) and the first stored
    answer comes back with 200 instead of 201.
    """

    point_id: IdField
    status: Literal["present", "absent"]
    idempotency_key: Annotated[str, Meta(min_length=1, max_length=MAX_KEY), Line]
    delegates_present: Annotated[int, Meta(ge=0, le=MAX_DELEGATES)] | None = None
    # Both typed in text areas: line breaks allowed.
    reason: Annotated[str, Meta(max_length=MAX_TEXT), Text] | None = None
    note: Annotated[str, Meta(max_length=MAX_TEXT), Text] | None = None
    presiding_name: Annotated[str, Meta(max_length=MAX_PRESIDING_NAME), Line] | None = None
    presiding_position: Annotated[str, Meta(max_length=MAX_PRESIDING_POSITION), Line] | None = None

    def __post_init__(self) -> None:
        """The rules between fields, on every answer however it was made (decoded or built):
        `present` needs a number of delegates, `absent` a reason. Keys and texts are kept
        stripped (names on one line, spaces folded); an absent point has no delegates and
        nobody presiding."""
        if self.status not in ("present", "absent"):
            raise InvalidInputError("status", MUST_BE["status"])
        self.idempotency_key = self.idempotency_key.strip()
        if not 0 < len(self.idempotency_key) <= MAX_KEY:
            raise InvalidInputError("idempotency_key", MUST_BE["idempotency_key"])
        self.reason = (self.reason or "").strip() or None
        self.note = (self.note or "").strip() or None
        self.presiding_name = " ".join((self.presiding_name or "").split()) or None
        self.presiding_position = " ".join((self.presiding_position or "").split()) or None
        if self.status == "present":
            delegates = self.delegates_present
            if delegates is None or not 0 <= delegates <= MAX_DELEGATES:
                raise InvalidInputError("delegates_present", MUST_BE["delegates_present"])
        elif self.reason is None:
            raise InvalidInputError("reason", N_("say why the point is absent"))
        else:
            self.delegates_present = None
            self.presiding_name = self.presiding_position = None


def decode_checkin(fields: Mapping[str, Any]) -> CheckinWrite:
    """An answer from a live message's or a form's fields, by the schema of the JSON body
    (numbers may come as text, as they do over HTTP); `InvalidInputError` names what is wrong."""
    try:
        return msgspec.convert(fields, CheckinWrite, strict=False)
    except msgspec.ValidationError:
        raise _refusal(fields) from None


def _refusal(fields: Mapping[str, Any]) -> InvalidInputError:
    """The first field the schema refuses, found field by field (only once it has refused)."""
    whole = ("checkin", N_("must be an object of the check-in's fields"))
    return first_refusal(fields, CheckinWrite, MUST_BE, whole)


class CheckinRead(msgspec.Struct):
    """A stored roll-call answer and the attendance version it produced."""

    id: int
    point_id: int
    status: str
    delegates_present: int | None
    reason: str | None
    note: str | None
    presiding_name: str | None
    presiding_position: str | None
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


class RehearsalChange(Body):
    """Start or end the test run before a meeting."""

    action: Literal["start", "stop"]


class SignalWrite(Body):
    """A technician's report of the conference link at one point."""

    point_id: IdField
    signal: Literal["untested", "test_ok", "connected", "no_video", "no_audio", "disconnected"]
