"""The web forms of the meetings pages: what was typed, checked at the edge (as the API's schemas
do for JSON).

A form keeps every value as typed (so a page shown again with an error keeps it) and collects one
error per field, a message in the form's own words (a service's error comes with its message);
times are typed in the province's zone as `dd/mm/yyyy hh:mm` (confhub.core.dateinput: the same
whatever the browser's locale) and turned into UTC here. The rules about meetings themselves
stay in the services.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from litestar.datastructures import FormMultiDict

from confhub.core.dateinput import parse_clock, parse_day, parse_moment
from confhub.core.errors import ConfhubError, InvalidInputError
from confhub.core.forms import form_text
from confhub.core.i18n import N_
from confhub.core.messages import Message, Renderable
from confhub.core.text import LINE_MESSAGE, TEXT_MESSAGE, is_digits, is_line, is_text
from confhub.meetings.connection import ConnectionChanges
from confhub.meetings.models import DELEGATES_MAX, DELEGATES_MIN
from confhub.meetings.reminders import DEFAULT_MINUTES, FORM_CHOICES, lead_words
from confhub.meetings.roll_call_limits import DELEGATES_CEILING, RollCallChanges
from confhub.meetings.services import AgendaEntry, ChairAssignment, MeetingChanges

MAX_TITLE = 500
MAX_SHORT = 300
MAX_DESCRIPTION = 20_000
MAX_AGENDA_ROWS = 100
EMPTY_AGENDA_ROWS = 3
MAX_CHAIR_NAME = 200
MAX_PHONE = 40
_AGENDA_KEY = re.compile(r"agenda-(\d{1,4})-(title|presenter|time)")
_PHONE = re.compile(r"[0-9+ .\-()]*")


def parse_local_datetime(value: str, timezone: str, field_name: str) -> datetime:
    """A typed day and time ("10/09/2025 14:00") in the province's zone, as UTC."""
    return parse_moment(value, timezone, field_name)


def parse_local_date(value: str, field_name: str) -> date | None:
    """A typed day ("10/09/2025"); None when empty."""
    return parse_day(value, field_name)


@dataclass
class AgendaRow:
    """One agenda row as typed: a time of day (on the meeting's first day), title, presenter."""

    time: str = ""
    title: str = ""
    presenter: str = ""

    @property
    def empty(self) -> bool:
        """A row left blank is ignored."""
        return not (self.time or self.title or self.presenter)


@dataclass
class MeetingForm:
    """The create/edit form of a meeting, as typed, with its errors by field."""

    title: str = ""
    convening_body: str = ""
    presiding_official: str = ""
    description: str = ""
    starts_at: str = ""
    ends_at: str = ""
    host_point_id: str = ""
    province_code: str = ""
    agenda: list[AgendaRow] = field(default_factory=list)
    # Editing only: the agenda's times are those of the meeting as it was, moved with its start.
    shift_agenda: bool = False
    conference_url: str = ""
    conference_room: str = ""
    technician_phone: str = ""
    # Empty: the default, 30 minutes before the start.
    line_test_at: str = ""
    # The reminders' lead times ticked, in minutes as sent; None: a form without the choice.
    reminders: list[str] | None = field(default_factory=lambda: [str(m) for m in DEFAULT_MINUTES])
    # Empty: at the line test. The delegates' bounds, as typed.
    roll_call_opens_at: str = ""
    delegates_min: str = str(DELEGATES_MIN)
    delegates_max: str = str(DELEGATES_MAX)
    errors: dict[str, Renderable] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: FormMultiDict) -> MeetingForm:
        """Read the submitted fields (agenda rows by their index, in order)."""
        rows: dict[int, AgendaRow] = {}
        for key in form:
            match = _AGENDA_KEY.fullmatch(key)
            if match and len(rows) < MAX_AGENDA_ROWS:
                row = rows.setdefault(int(match.group(1)), AgendaRow())
                setattr(row, match.group(2), form_text(form, key))
        return cls(
            title=form_text(form, "title"),
            convening_body=form_text(form, "convening_body"),
            presiding_official=form_text(form, "presiding_official"),
            description=form_text(form, "description"),
            starts_at=form_text(form, "starts_at"),
            ends_at=form_text(form, "ends_at"),
            host_point_id=form_text(form, "host_point_id"),
            province_code=form_text(form, "province_code"),
            agenda=[rows[i] for i in sorted(rows) if not rows[i].empty],
            shift_agenda=form_text(form, "shift_agenda") == "1",
            conference_url=form_text(form, "conference_url"),
            conference_room=form_text(form, "conference_room"),
            technician_phone=form_text(form, "technician_phone"),
            line_test_at=form_text(form, "line_test_at"),
            reminders=[v.strip() for v in form.getall("reminder_minutes", []) if isinstance(v, str)]
            if form_text(form, "reminders_shown")
            else None,
            roll_call_opens_at=form_text(form, "roll_call_opens_at"),
            delegates_min=form_text(form, "delegates_min"),
            delegates_max=form_text(form, "delegates_max"),
        )

    def display_rows(self) -> list[AgendaRow]:
        """The rows to show: the typed ones and a few empty ones to fill in."""
        return [*self.agenda, *(AgendaRow() for _ in range(EMPTY_AGENDA_ROWS))]

    def reminder_choices(self) -> list[tuple[int, Message, bool]]:
        """The lead times to tick (the form's own and the meeting's), the earliest first: each
        with its words and whether it is ticked."""
        ticked = {int(v) for v in self.reminders or () if is_digits(v) and len(v) < 7}
        return [
            (minutes, lead_words(minutes), minutes in ticked)
            for minutes in sorted(ticked | set(FORM_CHOICES), reverse=True)
        ]

    def _reminders(self) -> list[int] | None:
        if self.reminders is None:
            return None
        if not all(is_digits(v) and len(v) < 7 for v in self.reminders):
            self.errors.setdefault("reminder_minutes", Message(N_("Choose among the times shown.")))
            return None
        return [int(v) for v in self.reminders]

    def _check_length(self, name: str, limit: int, required: bool = False) -> None:
        value = getattr(self, name)
        if required and not value:
            self.errors.setdefault(name, Message(N_("Required.")))
        elif len(value) > limit:
            self.errors.setdefault(name, _at_most(limit))
        elif name == "description" and not is_text(value):
            self.errors.setdefault(name, Message(TEXT_MESSAGE))
        elif name != "description" and not is_line(value):
            self.errors.setdefault(name, Message(LINE_MESSAGE))

    def _time(self, name: str, timezone: str) -> datetime | None:
        try:
            return parse_local_datetime(getattr(self, name), timezone, name)
        except InvalidInputError as error:
            self.errors.setdefault(name, error.message)
            return None

    def _count(self, name: str) -> int | None:
        """A bound of delegates as typed; None when left empty (unchanged, or the default)."""
        value = getattr(self, name)
        if not value:
            return None
        if is_digits(value) and len(value) <= len(str(DELEGATES_CEILING)):
            return int(value)
        bounds = {"n": f"{DELEGATES_CEILING:,}"}
        self.errors.setdefault(name, Message(N_("Enter a number from 0 to %(n)s."), bounds))
        return None

    def _agenda(self, starts_at: datetime | None, timezone: str) -> list[AgendaEntry]:
        zone = ZoneInfo(timezone)
        day = starts_at.astimezone(zone).date() if starts_at else None
        entries = []
        for number, row in enumerate(self.agenda, start=1):
            item = {"n": number}
            if not row.title:
                self.errors.setdefault("agenda", Message(N_("Item %(n)s has no title."), item))
            elif len(row.title) > MAX_TITLE or len(row.presenter) > MAX_SHORT:
                self.errors.setdefault("agenda", Message(N_("Item %(n)s is too long."), item))
            elif not (is_line(row.title) and is_line(row.presenter)):
                one_line = N_("Item %(n)s: one line of text, without control characters.")
                self.errors.setdefault("agenda", Message(one_line, item))
            at: datetime | None = None
            if row.time and day is not None:
                try:
                    clock = parse_clock(row.time, "agenda")
                except InvalidInputError:
                    not_a_time = N_("Item %(n)s: enter a time of day as hh:mm (24-hour clock).")
                    self.errors.setdefault("agenda", Message(not_a_time, item))
                    continue
                assert clock is not None  # the row's time is not empty
                at = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
            entries.append(AgendaEntry(row.title, row.presenter, at))
        return entries

    def changes(self, timezone: str, was_starting: datetime | None = None) -> MeetingChanges:
        """The checked values as a full update; raises nothing, fills `errors` instead.

        With `shift_agenda`, the agenda's times are read on the day of `was_starting` (the
        meeting's start before this edit) and moved as far as the start moves.
        """
        self._check_length("title", MAX_TITLE, required=True)
        for name in ("convening_body", "presiding_official"):
            self._check_length(name, MAX_SHORT)
        self._check_length("description", MAX_DESCRIPTION)
        starts_at = self._time("starts_at", timezone)
        ends_at = self._time("ends_at", timezone)
        host: int | None = None
        if self.host_point_id:
            if is_digits(self.host_point_id) and len(self.host_point_id) < 10:
                host = int(self.host_point_id)
            else:
                unknown = N_("There is no connection point %(point)s.")
                self.errors.setdefault(
                    "host_point_id", Message(unknown, {"point": self.host_point_id})
                )
        return MeetingChanges(
            title=self.title,
            convening_body=self.convening_body,
            presiding_official=self.presiding_official,
            description=self.description,
            starts_at=starts_at,
            ends_at=ends_at,
            host_point_id=host,
            agenda=self._agenda(
                was_starting if self.shift_agenda and was_starting else starts_at, timezone
            ),
            shift_agenda=self.shift_agenda and was_starting is not None,
            connection=ConnectionChanges(
                conference_url=self.conference_url,
                conference_room=self.conference_room,
                technician_phone=self.technician_phone,
                line_test_at=self._time("line_test_at", timezone) if self.line_test_at else None,
                line_test_default=not self.line_test_at,
            ),
            reminders=self._reminders(),
            roll_call=RollCallChanges(
                roll_call_opens_at=self._time("roll_call_opens_at", timezone)
                if self.roll_call_opens_at
                else None,
                opens_default=not self.roll_call_opens_at,
                delegates_min=self._count("delegates_min"),
                delegates_max=self._count("delegates_max"),
            ),
        )

    def add_error(self, error: ConfhubError) -> None:
        """Record a service's refusal by its field (others, and a conflict, go to the top)."""
        known = {"title", "starts_at", "ends_at", "host_point_id", "province_code", "agenda"}
        known |= {"conference_url", "conference_room", "technician_phone", "line_test_at"}
        known |= {"reminder_minutes"}
        known |= {"roll_call_opens_at", "delegates_min", "delegates_max"}
        name = error.field if error.field in known else "_form"
        self.errors.setdefault(name, error.message)


def chair_from_form(form: FormMultiDict) -> tuple[ChairAssignment, dict[str, Renderable]]:
    """A chair's name, title and phone as typed, with the errors of each field."""
    chair = ChairAssignment(
        name=form_text(form, "chair_name"),
        title=form_text(form, "chair_title"),
        phone=form_text(form, "chair_phone"),
    )
    errors: dict[str, Renderable] = {}
    if not chair.name:
        errors["chair_name"] = Message(N_("Required."))
    elif len(chair.name) > MAX_CHAIR_NAME:
        errors["chair_name"] = _at_most(MAX_CHAIR_NAME)
    elif not is_line(chair.name):
        errors["chair_name"] = Message(LINE_MESSAGE)
    if len(chair.title) > MAX_SHORT:
        errors["chair_title"] = _at_most(MAX_SHORT)
    elif not is_line(chair.title):
        errors["chair_title"] = Message(LINE_MESSAGE)
    if len(chair.phone) > MAX_PHONE:
        errors["chair_phone"] = _at_most(MAX_PHONE)
    elif not _PHONE.fullmatch(chair.phone):
        errors["chair_phone"] = Message(
            N_("not a phone number: '%(value)s'"), {"value": chair.phone}
        )
    return chair, errors


def _at_most(limit: int) -> Message:
    return Message(N_("At most %(n)s characters."), {"n": limit})
