"""The standing directory of contacts per connection point: who chairs there (name, position),
their phones and e-mail, and the technician's phone.

Every meeting reuses a point's entry unless it names another chair for itself; notices go to
its e-mail and first phone. Values are checked and normalised here, whatever door they come
through (the API, the contacts page, a chair sheet): phones in the national form `0XXXXXXXXX`
(:mod:`confhub.core.phones`), e-mails of a plausible shape. `confhub.points.services` reads and
stores them: every change is one entry of the point's audit log, in the same transaction, and
the `contacts_changed` signal tells the domains above (meetings' upcoming invitations follow the
directory).

The entry names a person: the accounts domain says who may read it
(:func:`confhub.accounts.visibility.sees_chair`), and `confhub people export|erase` covers it
(:mod:`confhub.points.personal_data`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_
from confhub.core.phones import parse_phone
from confhub.core.text import is_line
from confhub.points.models import PointContacts

MAX_NAME = 200
MAX_POSITION = 300
MAX_EMAIL = 254
MAX_PHONES = 5
# One @, something before, a dot in the domain, no spaces: what a mail server may accept. Whether
# the mailbox exists only a delivery can tell (the notices' state says so).
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")

FIELDS = ("chair_name", "chair_position", "phones", "email", "technician_phone")


class AuditActor(Protocol):
    """Who made a change, as the audit log names them (the accounts' principal is one)."""

    @property
    def id(self) -> int:
        """The account's id."""

    @property
    def email(self) -> str:
        """The account's e-mail, kept in the log even when the account is deleted."""


@dataclass(frozen=True)
class Contacts:
    """A point's directory entry; every field empty for a point nobody has filled in."""

    point_id: int
    chair_name: str | None = None
    chair_position: str | None = None
    phones: tuple[str, ...] = ()
    email: str | None = None
    technician_phone: str | None = None

    @property
    def phone(self) -> str | None:
        """The number to call first (the webhook's SMS goes to it)."""
        return self.phones[0] if self.phones else None

    @property
    def is_empty(self) -> bool:
        """Nothing is known about the point."""
        return not any(self.values().values())

    def values(self) -> dict[str, Any]:
        """The fields as the API names them (phones as a list)."""
        return {
            "chair_name": self.chair_name,
            "chair_position": self.chair_position,
            "phones": list(self.phones),
            "email": self.email,
            "technician_phone": self.technician_phone,
        }

    @classmethod
    def of(cls, row: PointContacts) -> Contacts:
        """The entry of a stored row."""
        return cls(
            point_id=row.point_id,
            chair_name=row.chair_name,
            chair_position=row.chair_position,
            phones=tuple(row.phones or ()),
            email=row.email,
            technician_phone=row.technician_phone,
        )


@dataclass(frozen=True)
class CheckedContacts:
    """Contacts that passed the checks, with the numbers whose leading 0 was put back."""

    contacts: Contacts
    restored_phones: tuple[str, ...] = field(default=())


def _line(field_name: str, value: str | None, limit: int) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        return None
    if not is_line(text):
        raise InvalidInputError(
            field_name, N_("must be one line of text, without control characters")
        )
    if len(text) > limit:
        raise InvalidInputError(field_name, N_("At most %(n)s characters."), n=limit)
    return text


def check_phone(field_name: str, value: str) -> tuple[str, bool]:
    """A written number in its national form and whether its leading 0 was put back; a 400
    naming the field for anything that is not a Vietnamese number."""
    phone = parse_phone(value)
    if phone is None:
        raise InvalidInputError(
            field_name,
            N_("'%(value)s' is not a Vietnamese phone number (such as 0912 345 678)"),
            value=value.strip()[:40],
        )
    return phone.number, phone.restored


def is_email(value: str) -> bool:
    """Whether a trimmed text has the shape of an e-mail address."""
    return len(value) <= MAX_EMAIL and bool(_EMAIL.fullmatch(value)) and is_line(value)


def check_email(field_name: str, value: str | None) -> str | None:
    """An e-mail address, trimmed; None when empty; a 400 naming the field when malformed."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > MAX_EMAIL:
        raise InvalidInputError(field_name, N_("At most %(n)s characters."), n=MAX_EMAIL)
    if not _EMAIL.fullmatch(text) or not is_line(text):
        raise InvalidInputError(
            field_name, N_("'%(value)s' is not an e-mail address"), value=text[:80]
        )
    return text


def check_contacts(
    point_id: int,
    *,
    chair_name: str | None = None,
    chair_position: str | None = None,
    phones: Sequence[str] = (),
    email: str | None = None,
    technician_phone: str | None = None,
) -> CheckedContacts:
    """Written values as a directory entry: names on one line, phones in the national form
    (repeats dropped), the e-mail checked. Raises :class:`InvalidInputError` naming the field."""
    written = [p for p in phones if p and p.strip()]
    if len(written) > MAX_PHONES:
        raise InvalidInputError("phones", N_("At most %(n)s phone numbers."), n=MAX_PHONES)
    numbers: list[str] = []
    restored: list[str] = []
    for index, value in enumerate(written):
        number, was_restored = check_phone(f"phones[{index}]", value)
        if number not in numbers:
            numbers.append(number)
        if was_restored:
            restored.append(number)
    technician = None
    if technician_phone and technician_phone.strip():
        technician, was_restored = check_phone("technician_phone", technician_phone)
        if was_restored:
            restored.append(technician)
    contacts = Contacts(
        point_id=point_id,
        chair_name=_line("chair_name", chair_name, MAX_NAME),
        chair_position=_line("chair_position", chair_position, MAX_POSITION),
        phones=tuple(numbers),
        email=check_email("email", email),
        technician_phone=technician,
    )
    return CheckedContacts(contacts, tuple(restored))
