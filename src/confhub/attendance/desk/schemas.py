"""What the desk takes: an incident report (the live channel's `incident` message), the
technician's change of an incident, an announcement and a point's receipt of one. Live messages
are decoded by the same structs as the HTTP bodies, so a refusal names the same field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from confhub.core.bodies import Body, first_refusal
from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_
from confhub.core.ids import CodeField, IdField
from confhub.core.messages import Message
from confhub.core.text import Text

MAX_CLIENT_ID = 100
MAX_NOTE = 500
MAX_ANNOUNCEMENT = 500
MAX_UNIT_CODES = 4000

# A client's id of its message (a UUID, say): letters, digits and a few marks (an incident's is
# a path segment of its PATCH).
CLIENT_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
ClientId = Annotated[str, Meta(min_length=1, max_length=MAX_CLIENT_ID, pattern=CLIENT_ID_PATTERN)]

MUST_BE: dict[str, Message] = {
    "point_id": Message(N_("must be the id of an invited connection point")),
    "incident_id": Message(
        N_("must be 1 to %(n)s letters, digits or . _ : -"), {"n": MAX_CLIENT_ID}
    ),
    "announcement_id": Message(
        N_("must be 1 to %(n)s letters, digits or . _ : -"), {"n": MAX_CLIENT_ID}
    ),
    "kind": Message(N_("must be no_video, no_audio, disconnected or other")),
    "note": Message(N_("must be text of at most %(n)s characters"), {"n": MAX_NOTE}),
    "state": Message(N_("must be acknowledged or resolved")),
    "text": Message(N_("must be text of 1 to %(n)s characters"), {"n": MAX_ANNOUNCEMENT}),
    "unit_codes": Message(N_("must be a list of unit codes")),
    "audience": Message(N_("must be all, units or not_present")),
}


class IncidentReport(Body):
    """A point's report: what it lost, with an optional note; `incident_id` is the client's."""

    incident_id: ClientId
    kind: Literal["no_video", "no_audio", "disconnected", "other"]
    point_id: IdField | None = None
    note: Annotated[str, Meta(max_length=MAX_NOTE), Text] | None = None

    def __post_init__(self) -> None:
        """A note is kept stripped (None when empty)."""
        self.note = (self.note or "").strip() or None


class IncidentChange(Body):
    """The technician's step: `acknowledged`, or `resolved` with a note of what was done."""

    state: Literal["acknowledged", "resolved"]
    note: Annotated[str, Meta(max_length=MAX_NOTE), Text] | None = None

    def __post_init__(self) -> None:
        """A note is kept stripped (None when empty)."""
        self.note = (self.note or "").strip() or None


class AnnouncementWrite(Body):
    """A short message to every point (no `unit_codes`), to the points of those units, or
    (`audience: not_present`) to the points not yet answered present. `announcement_id` makes
    sending it again harmless."""

    text: Annotated[str, Meta(min_length=1, max_length=MAX_ANNOUNCEMENT), Text]
    unit_codes: Annotated[list[CodeField], Meta(max_length=MAX_UNIT_CODES)] | None = None
    audience: Literal["all", "units", "not_present"] | None = None
    announcement_id: ClientId | None = None

    def __post_init__(self) -> None:
        """The text is kept stripped; `unit_codes` means the `units` audience."""
        self.text = self.text.strip()
        if not self.text:
            raise InvalidInputError("text", MUST_BE["text"])
        if self.audience is None:
            self.audience = "units" if self.unit_codes is not None else "all"
        if self.audience == "units" and not self.unit_codes:
            raise InvalidInputError("unit_codes", N_("name at least one unit"))
        if self.audience != "units":
            self.unit_codes = None


class AnnouncementReceiptWrite(Body):
    """A point's phone showed an announcement (`seen`) or its chair acknowledged it."""

    announcement_id: ClientId


def decode(fields: Mapping[str, Any], kind: type[Any]) -> Any:
    """A live message's fields by the schema of its HTTP body (numbers may come as text);
    `InvalidInputError` names the first field refused."""
    body = {key: value for key, value in fields.items() if key != "type"}
    try:
        return msgspec.convert(body, kind, strict=False)
    except msgspec.ValidationError:
        raise _refusal(body, kind) from None


def _refusal(fields: Mapping[str, Any], kind: type[Any]) -> InvalidInputError:
    whole = ("message", N_("must be an object of the message's fields"))
    return first_refusal(fields, kind, MUST_BE, whole)
