"""What the meetings API takes and returns (msgspec structs: validated at the edge)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.datastructures import UploadFile
from msgspec import UNSET, Meta, UnsetType

from confhub.core.bodies import Body
from confhub.core.ids import CodeField, IdField
from confhub.core.text import Line, Text
from confhub.meetings.models import DELEGATES_MAX, DELEGATES_MIN

Title = Annotated[str, Meta(min_length=1, max_length=500), Line]
ShortText = Annotated[str, Meta(max_length=300), Line]
LongText = Annotated[str, Meta(max_length=20_000), Text]
PersonName = Annotated[str, Meta(min_length=1, max_length=200), Line]
Phone = Annotated[str, Meta(max_length=40, pattern=r"^[0-9+ .\-()]*$")]
# Typed in a text area: line breaks allowed.
Reason = Annotated[str, Meta(max_length=2000), Text]
# A video room's link (checked to be http or https by the service), and a room ID with its PIN.
ConferenceUrl = Annotated[str, Meta(max_length=500), Line]
ConferenceRoom = Annotated[str, Meta(max_length=200), Line]
# Reminders' lead times in minutes before the start (the service checks each one's bounds).
ReminderMinutes = Annotated[list[Annotated[int, Meta(ge=0, le=100_000)]], Meta(max_length=20)]
# A meeting's bound of the delegates a point may report (confhub.meetings.roll_call_limits).
Delegates = Annotated[int, Meta(ge=0, le=100_000)]
# A unit named in an invitation: its code, or its name as written (e.g. "Xã Cẩm Tú").
UnitEntry = Annotated[str, Meta(max_length=200), Line]


class AgendaItemRead(msgspec.Struct):
    """One timed item of the agenda."""

    position: int
    title: str
    presenter: str
    starts_at: datetime | None


class AgendaItemWrite(Body):
    """An agenda item as sent by the client."""

    title: Title
    presenter: ShortText = ""
    starts_at: datetime | None = None


class MeetingRead(msgspec.Struct):
    """A meeting as the API shows it."""

    id: int
    title: str
    province_code: int
    convening_body: str
    presiding_official: str
    description: str
    starts_at: datetime
    ends_at: datetime
    status: str
    status_reason: str | None
    host_point_id: int | None
    invited_count: int
    sequence: int
    copied_from_id: int | None
    agenda: list[AgendaItemRead] = msgspec.field(default_factory=list)
    # How points join (null for those who may not see them: they let anyone join).
    conference_url: str | None = None
    conference_room: str | None = None
    technician_phone: str | None = None
    # When points test the line: 30 minutes before the start unless set.
    line_test_at: datetime | None = None
    # The reminders to the points, in minutes before the start (24 h and 60 min unless set).
    reminder_minutes: list[int] = msgspec.field(default_factory=list)
    # When the roll call opens (the line test unless set), and the delegates a point may report.
    roll_call_opens_at: datetime | None = None
    delegates_min: int = DELEGATES_MIN
    delegates_max: int = DELEGATES_MAX


class MeetingCreate(Body):
    """A new meeting; times are ISO 8601 with an offset, e.g. `2025-09-10T14:00:00+07:00`."""

    title: Title
    province_code: CodeField
    starts_at: datetime
    ends_at: datetime
    convening_body: ShortText = ""
    presiding_official: ShortText = ""
    description: LongText = ""
    host_point_id: IdField | None = None
    status: Literal["draft", "scheduled"] = "draft"
    agenda: list[AgendaItemWrite] = msgspec.field(default_factory=list)
    conference_url: ConferenceUrl | None = None
    conference_room: ConferenceRoom | None = None
    technician_phone: Phone | None = None
    line_test_at: datetime | None = None
    # null or left out: the default, 24 hours and 60 minutes before the start; []: none.
    reminder_minutes: ReminderMinutes | None = None
    roll_call_opens_at: datetime | None = None
    delegates_min: Delegates = DELEGATES_MIN
    delegates_max: Delegates = DELEGATES_MAX


class MeetingUpdate(Body, omit_defaults=True):
    """A partial update; a reschedule sends only `starts_at` and/or `ends_at`."""

    title: Title | UnsetType = UNSET
    convening_body: ShortText | UnsetType = UNSET
    presiding_official: ShortText | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    starts_at: datetime | UnsetType = UNSET
    ends_at: datetime | UnsetType = UNSET
    host_point_id: IdField | UnsetType = UNSET
    agenda: list[AgendaItemWrite] | UnsetType = UNSET
    # Moves the agenda's times (the one sent, else the current one) with a new start; by
    # default only when no agenda is sent.
    shift_agenda: bool | UnsetType = UNSET
    # An empty text (or null) removes a connection detail; a null `line_test_at` goes back to
    # the default, 30 minutes before the start.
    conference_url: ConferenceUrl | UnsetType | None = UNSET
    conference_room: ConferenceRoom | UnsetType | None = UNSET
    technician_phone: Phone | UnsetType | None = UNSET
    line_test_at: datetime | UnsetType | None = UNSET
    # null: back to the default (24 hours and 60 minutes before); []: no reminders.
    reminder_minutes: ReminderMinutes | UnsetType | None = UNSET
    # A null `roll_call_opens_at` opens the roll call at the line test again.
    roll_call_opens_at: datetime | UnsetType | None = UNSET
    delegates_min: Delegates | UnsetType = UNSET
    delegates_max: Delegates | UnsetType = UNSET


class StatusChange(Body):
    """A step of the meeting's life; `cancelled` needs a `reason`."""

    status: Literal["draft", "scheduled", "live", "ended", "cancelled"]
    reason: Reason | None = None


class MeetingCopy(Body):
    """Copy a meeting to a new date (same invitations and chairs)."""

    starts_at: datetime
    ends_at: datetime | None = None
    title: Title | None = None


class InvitationRequest(Body):
    """Which points to invite: any mix of the ways below; at least one."""

    all_units: bool = False
    unit_types: list[Literal["xã", "phường", "đặc khu"]] = msgspec.field(default_factory=list)
    unit_codes: list[CodeField | UnitEntry] = msgspec.field(default_factory=list)
    point_ids: list[IdField] = msgspec.field(default_factory=list)


class InvitationResult(msgspec.Struct):
    """What an invitation request did."""

    added: int
    already_invited: int
    invited_count: int


class ChairWrite(Body):
    """The chair presiding at one point."""

    name: PersonName
    title: ShortText = ""
    phone: Phone = ""


class InvitedPointRead(msgspec.Struct, omit_defaults=True):
    """An invited point; `chair_phone` and `checkin_url` only for the secretariat."""

    point_id: int
    point_name: str
    unit_code: int | None
    unit_name: str | None
    unit_type: str | None
    chair_name: str | None
    chair_title: str | None
    chair_is_sample: bool
    has_chair: bool
    # The invitation's way to the point (confhub.notices): `none`, `queued`, `sent`,
    # `delivered`, `failed`, or the chair's answer (`acknowledged`, `declined`) …
    notice_state: str
    # … and that answer: null or `{"status", "delegates_expected", "reason", "at"}`.
    acknowledgement: dict[str, Any] | None
    chair_phone: str | None = None
    checkin_url: str | None = None


class ImportRowRead(msgspec.Struct):
    """One row of a chair sheet as the import understood it."""

    row_number: int
    unit_entry: str
    unit_code: int | None
    unit_name: str | None
    chair_name: str
    chair_title: str
    chair_phone: str
    error: str | None
    chair_email: str = ""
    # What to check in a row that can be imported (a phone whose leading 0 was restored).
    notes: list[str] = msgspec.field(default_factory=list)


class ImportResult(msgspec.Struct):
    """A chair sheet's preview (`dry_run`) or the outcome of importing it."""

    ok: bool
    applied: bool
    error_count: int
    rows: list[ImportRowRead]
    # Chairs assigned by an import (0 for a preview); the rows with an `error` were left.
    imported_count: int = 0


class AuditEntryRead(msgspec.Struct):
    """One change in a meeting's audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]


class DocumentRead(msgspec.Struct):
    """A document attached to a meeting."""

    id: int
    filename: str
    content_type: str
    size_bytes: int
    uploaded_at: datetime
    url: str


@dataclass
class FileUpload:
    """A file sent as the `data` field of a multipart form (a form without it is a 400)."""

    data: UploadFile


class ContactsRead(msgspec.Struct):
    """A connection point's standing contacts; phones in the national form `0XXXXXXXXX`."""

    point_id: int
    chair_name: str | None
    chair_position: str | None
    phones: list[str]
    email: str | None
    technician_phone: str | None


class ContactsWrite(Body):
    """A point's whole entry (a field left out is cleared). Phones may be written as people
    write them (`+84 912 345 678`, `0912.345.678`); they are stored in the national form."""

    chair_name: Annotated[str, Meta(max_length=200), Line] | None = None
    chair_position: ShortText | None = None
    phones: Annotated[list[Annotated[str, Meta(max_length=40), Line]], Meta(max_length=5)] = (
        msgspec.field(default_factory=list)
    )
    email: Annotated[str, Meta(max_length=254), Line] | None = None
    technician_phone: Annotated[str, Meta(max_length=40), Line] | None = None
