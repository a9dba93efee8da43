"""One person's data, for the admin's `confhub people export` and `confhub people erase`.

Under Vietnam's Law on Personal Data Protection (in force since 1 January 2026) a person may ask
what is stored about them and have it erased. A person is found by phone, name or account.

Each domain answers for its own data (as Indico's modules do when two users are merged): its
`personal_data.py` holds a :class:`PersonalData` section that finds what the domain stores about
the person, exports it, counts what erasing changes, and erases it. The command runs the
sections lowest layer first (accounts, meetings, attendance, news), so a section may read the
parts of those before it, and each may add to who the person is (the accounts' full names, the
names chair assignments give with the phone) before the next one looks. Erasing runs them
highest first, so rows that point at an account let go of it before the account is deleted.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from confhub.db import DbSession

PLACEHOLDER = "(đã xoá)"
logger = logging.getLogger("confhub.audit")

PartT = TypeVar("PartT")


def normalize_name(value: str) -> str:
    """A name compared regardless of case, Unicode form and spacing."""
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


def normalize_phone(value: str) -> str:
    """Digits of a Vietnamese phone number, `+84…`/`84…` written as `0…`."""
    digits = re.sub(r"\D", "", value)
    if digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


@dataclass(frozen=True)
class PersonQuery:
    """Who is looked for: any of these phones, names or accounts (e-mail or id)."""

    phones: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.phones or self.names or self.users):
            raise ValueError("give at least one --phone, --name or --user")
        if any(len(normalize_phone(p)) < 9 for p in self.phones):
            raise ValueError("a phone number needs at least 9 digits")
        if any(len(normalize_name(n)) < 3 for n in self.names):
            raise ValueError("a name needs at least 3 characters")

    def as_dict(self) -> dict[str, list[str]]:
        """The query as the export repeats it."""
        return {"phones": list(self.phones), "names": list(self.names), "users": list(self.users)}


class Matcher:
    """Finds the person's names and phone numbers in free text."""

    def __init__(self, names: Iterable[str], phones: Iterable[str]) -> None:
        self.names = {normalize_name(n) for n in names if normalize_name(n)}
        self.phones = {normalize_phone(p) for p in phones if normalize_phone(p)}
        patterns = [_phone_pattern(p) for p in self.phones]
        self.phone_re = re.compile("|".join(patterns)) if patterns else None
        names_re = [r"\s+".join(map(re.escape, n.split())) for n in sorted(self.names, key=len)]
        self.name_re = re.compile("|".join(reversed(names_re)), re.IGNORECASE) if names_re else None

    def is_name(self, value: str | None) -> bool:
        """Whether `value` is one of the person's names."""
        return bool(value) and normalize_name(value or "") in self.names

    def is_phone(self, value: str | None) -> bool:
        """Whether `value` is one of the person's phone numbers."""
        return bool(value) and normalize_phone(value or "") in self.phones

    def mentions(self, text: str | None) -> bool:
        """Whether `text` names the person or holds their phone number."""
        if not text:
            return False
        text = unicodedata.normalize("NFC", text)
        return bool(
            (self.name_re and self.name_re.search(text))
            or (self.phone_re and self.phone_re.search(text))
        )

    def scrub(self, text: str) -> str:
        """`text` with every mention replaced by the placeholder."""
        text = unicodedata.normalize("NFC", text)
        for pattern in (self.name_re, self.phone_re):
            if pattern is not None:
                text = pattern.sub(PLACEHOLDER, text)
        return text

    def scrub_optional(self, text: str | None) -> str | None:
        """`scrub` for a text that may be missing or empty (left as it is)."""
        return self.scrub(text) if text else text

    def scrub_json(self, value: Any) -> Any:
        """A JSON value with every string that mentions the person scrubbed."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub_json(v) for k, v in value.items()}
        return value


def _phone_pattern(digits: str) -> str:
    """The number as people write it: `0912 345 678`, `0912.345.678`, `+84 912-345-678`."""
    rest = digits[1:] if digits.startswith("0") else digits
    body = r"[\s.\-]?".join(rest)
    return rf"(?<!\d)(?:\+?84|0)[\s.\-]?{body}(?!\d)"


@dataclass
class Person:
    """Who is looked for, as the sections learn more about them."""

    query: PersonQuery
    account_ids: set[int] = field(default_factory=set)
    # How stored labels name their accounts: the e-mails and full names.
    labels: set[str] = field(default_factory=set)
    # Every name they go by here: those asked for, of their accounts, of their chair assignments.
    names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.names |= set(self.query.names)

    def matcher(self) -> Matcher:
        """A matcher of every name and phone known so far."""
        return Matcher(self.names, self.query.phones)

    def pseudonym(self, label: str, matcher: Matcher) -> str:
        """A stored label with the person taken out: an account's label becomes the placeholder,
        and any other loses the names and phones it holds."""
        return PLACEHOLDER if label in self.labels else matcher.scrub(label)


@dataclass
class Mention:
    """A text that names the person and that erasing leaves as it is."""

    kind: str  # article, meeting, agenda_item, minutes, minutes_revision, photo
    id: int
    meeting_id: int | None
    fields: list[str]
    published: bool = False
    # Where the public reads it: only for a published article.
    url: str | None = None
    title: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The export's view."""
        return {
            "kind": self.kind,
            "id": self.id,
            "meeting_id": self.meeting_id,
            "fields": self.fields,
            "published": self.published,
            "url": self.url,
            "title": self.title,
        }


def mentions_in(
    matcher: Matcher, kind: str, rows: Iterable[Any], fields: Sequence[str]
) -> list[Mention]:
    """A mention of each row (with an `id`, and a `meeting_id` if it belongs to a meeting) whose
    text `fields` name the person."""
    found: list[Mention] = []
    for row in rows:
        hits = [name for name in fields if matcher.mentions(getattr(row, name))]
        if hits:
            found.append(Mention(kind, row.id, getattr(row, "meeting_id", None), hits))
    return found


class PersonalData(ABC, Generic[PartT]):
    """One domain's answer for what it stores about a person (its `part` of the findings)."""

    @abstractmethod
    async def find(self, session: DbSession, person: Person, found: Findings) -> PartT:
        """What the domain stores about `person`; may add to who they are for later sections."""

    @abstractmethod
    def export(self, part: PartT) -> dict[str, Any]:
        """The part's entries in the export document."""

    @abstractmethod
    def counts(self, part: PartT) -> dict[str, int]:
        """What erasing the part changes, counted (the erasure's audit entries keep them)."""

    def meeting_ids(self, part: PartT) -> set[int]:
        """The meetings whose records erasing the part changes."""
        return set()

    def mentions(self, part: PartT) -> list[Mention]:
        """Texts naming the person that erasing leaves as they are."""
        return []

    @abstractmethod
    async def erase(self, session: DbSession, part: PartT, found: Findings) -> None:
        """Take the person out of the part's rows; the caller commits."""


@dataclass
class Findings:
    """Everything stored about one person: each section's part, in the order they ran."""

    person: Person
    parts: dict[PersonalData[Any], Any] = field(default_factory=dict)

    @property
    def query(self) -> PersonQuery:
        """Who was looked for."""
        return self.person.query

    def part(self, kind: type[PersonalData[PartT]]) -> PartT:
        """What the section of this kind found (it must have run before the one asking)."""
        for section, part in self.parts.items():
            if isinstance(section, kind):
                return cast(PartT, part)
        raise LookupError(f"{kind.__name__} has not run yet")

    @property
    def mentions(self) -> list[Mention]:
        """Every text naming the person that erasing leaves as it is."""
        return [m for section, part in self.parts.items() for m in section.mentions(part)]

    @property
    def publications(self) -> list[Mention]:
        """The published texts among them, with their public address (an editor decides)."""
        return [m for m in self.mentions if m.url is not None]

    @property
    def meeting_ids(self) -> set[int]:
        """The meetings whose records change on erasure (each records the erasure)."""
        return {i for section, part in self.parts.items() for i in section.meeting_ids(part)}

    def counts(self) -> dict[str, int]:
        """What erasing changes, counted: each section's, and the meetings concerned."""
        counts: dict[str, int] = {}
        for section, part in self.parts.items():
            counts.update(section.counts(part))
        return {**counts, "meetings": len(self.meeting_ids)}


async def find_person(
    session: DbSession, query: PersonQuery, sections: Sequence[PersonalData[Any]]
) -> Findings:
    """Everything the sections store about the person `query` describes."""
    found = Findings(Person(query))
    for section in sections:
        found.parts[section] = await section.find(session, found.person, found)
    return found


def export(findings: Findings) -> dict[str, Any]:
    """The JSON document `confhub people export` prints."""
    document: dict[str, Any] = {"query": findings.query.as_dict()}
    for section, part in findings.parts.items():
        document.update(section.export(part))
    document["mentions"] = [m.as_dict() for m in findings.mentions]
    return document


async def erase(session: DbSession, findings: Findings) -> dict[str, int]:
    """Erase what `findings` holds, highest section first; the caller commits. Returns the
    counts the erasure's audit entries keep."""
    for section, part in reversed(findings.parts.items()):
        await section.erase(session, part, findings)
    await session.flush()
    summary = findings.counts()
    logger.info("personal data erased", extra={"erasure": summary})
    return summary
