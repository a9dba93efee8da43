"""One person's data, for the admin's `confhub people export` and `confhub people erase`.

Under Vietnam's Law on Personal Data Protection (in force since 1 January 2026) a person may ask
what is stored about them and have it erased. A person is found by phone, name or account; what
is found: their accounts, the chair assignments (name, position, phone) of connection points with
the meetings, the check-ins they made, the audit entries and minutes revisions naming them, and
every text that mentions them (articles, meetings, minutes, roll-call notes).

Erasing replaces the name with `PLACEHOLDER` and removes the phone and position in chair
assignments, deletes the accounts, pseudonymises the labels and notes that carried them, and
keeps every roll-call answer's status and delegate count, so reports still add up. Published
articles, meetings' announced officials and minutes are the province's publications and
records: they are reported (an editor decides), never rewritten by the command.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update

from confhub.accounts.models import User
from confhub.attendance.models import AttendanceEvent, CheckinRecord, PointAttendance
from confhub.db import DbSession
from confhub.meetings.models import (
    AgendaItem,
    AuditEntry,
    Invitation,
    Meeting,
    MeetingDocument,
)
from confhub.news.models import Article, ArticleStatus, Minutes, MinutesRevision, NewsPhoto
from confhub.news.sites import article_path
from confhub.points.models import ConnectionPoint

PLACEHOLDER = "(đã xoá)"
ERASED_ACTION = "personal_data_erased"
ERASER_LABEL = "confhub people erase"
logger = logging.getLogger("confhub.audit")


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


class _Matcher:
    """Finds the person's names and phone numbers in free text."""

    def __init__(self, names: Iterable[str], phones: Iterable[str]) -> None:
        self.names = {normalize_name(n) for n in names if normalize_name(n)}
        self.phones = {normalize_phone(p) for p in phones if normalize_phone(p)}
        patterns = [_phone_pattern(p) for p in self.phones]
        self.phone_re = re.compile("|".join(patterns)) if patterns else None
        names_re = [r"\s+".join(map(re.escape, n.split())) for n in sorted(self.names, key=len)]
        self.name_re = re.compile("|".join(reversed(names_re)), re.IGNORECASE) if names_re else None

    def is_name(self, value: str | None) -> bool:
        return bool(value) and normalize_name(value or "") in self.names

    def is_phone(self, value: str | None) -> bool:
        return bool(value) and normalize_phone(value or "") in self.phones

    def mentions(self, text: str | None) -> bool:
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
class Mention:
    """A text that names the person and that erasing leaves as it is."""

    kind: str  # article, meeting, agenda_item, minutes, minutes_revision, photo
    id: int
    meeting_id: int | None
    fields: list[str]
    published: bool = False
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


@dataclass
class Findings:
    """Everything stored about one person."""

    query: PersonQuery
    accounts: list[User] = field(default_factory=list)
    chair_assignments: list[tuple[Invitation, Meeting, ConnectionPoint]] = field(
        default_factory=list
    )
    checkins: list[CheckinRecord] = field(default_factory=list)
    audit_entries: list[AuditEntry] = field(default_factory=list)
    minutes_revisions: list[MinutesRevision] = field(default_factory=list)
    notes: list[PointAttendance] = field(default_factory=list)
    events: list[AttendanceEvent] = field(default_factory=list)
    labelled: list[Minutes | Article] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    # Every name the person goes by here: those asked for, of the accounts and assignments found.
    names: list[str] = field(default_factory=list)

    @property
    def published_articles(self) -> list[Mention]:
        """Published articles whose text names the person."""
        return [m for m in self.mentions if m.kind == "article" and m.published]

    @property
    def meeting_ids(self) -> set[int]:
        """The meetings whose data changes on erasure (each gets an audit entry)."""
        ids = {meeting.id for _, meeting, _ in self.chair_assignments}
        ids |= {r.meeting_id for r in self.checkins} | {e.meeting_id for e in self.audit_entries}
        ids |= {n.meeting_id for n in self.notes} | {e.meeting_id for e in self.events}
        return ids


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export(findings: Findings) -> dict[str, Any]:
    """The JSON document `confhub people export` prints."""
    return {
        "query": findings.query.as_dict(),
        "accounts": [
            {
                "id": u.id,
                "email": u.email,
                "full_name": u.full_name,
                "role": u.role,
                "province_code": u.province_code,
                "unit_code": u.unit_code,
                "is_active": u.is_active,
                "created_at": _when(u.created_at),
            }
            for u in findings.accounts
        ],
        "chair_assignments": [
            {
                "meeting_id": m.id,
                "meeting_title": m.title,
                "meeting_starts_at": _when(m.starts_at),
                "meeting_status": m.status,
                "point_id": p.id,
                "point_name": p.name,
                "unit_code": p.unit_code,
                "chair_name": i.chair_name,
                "chair_title": i.chair_title,
                "chair_phone": i.chair_phone,
            }
            for i, m, p in findings.chair_assignments
        ],
        "check_ins": [
            {
                "id": r.id,
                "meeting_id": r.meeting_id,
                "point_id": r.point_id,
                "status": r.status,
                "delegates_present": r.delegates_present,
                "reason": r.reason,
                "note": r.note,
                "source": r.source,
                "actor_label": r.actor_label,
                "at": _when(r.created_at),
            }
            for r in findings.checkins
        ],
        "audit_entries": [
            {
                "id": e.id,
                "meeting_id": e.meeting_id,
                "action": e.action,
                "actor_label": e.actor_label,
                "details": e.details,
                "at": _when(e.created_at),
            }
            for e in findings.audit_entries
        ],
        "minutes_revisions": [
            {"id": r.id, "minutes_id": r.minutes_id, "number": r.number, "author": r.author_label}
            for r in findings.minutes_revisions
        ],
        "roll_call_notes": [
            {"meeting_id": n.meeting_id, "point_id": n.point_id, "reason": n.reason, "note": n.note}
            for n in findings.notes
        ]
        + [{"meeting_id": e.meeting_id, "event_version": e.version} for e in findings.events],
        "labels": [
            {"kind": "minutes" if isinstance(x, Minutes) else "article", "id": x.id}
            for x in findings.labelled
        ],
        "mentions": [m.as_dict() for m in findings.mentions],
    }


def _labels(accounts: list[User]) -> set[str]:
    """How stored labels name these accounts: their e-mails and full names."""
    return {u.email for u in accounts} | {u.full_name for u in accounts if u.full_name}


def _matcher(query: PersonQuery, accounts: list[User]) -> _Matcher:
    """Texts are searched for the names the query gives and those of the accounts found."""
    return _Matcher([*query.names, *(u.full_name for u in accounts if u.full_name)], query.phones)


async def find_person(session: DbSession, query: PersonQuery) -> Findings:
    """Everything stored about the person `query` describes."""
    found = Findings(query)
    emails = {u.strip().lower() for u in query.users if not u.strip().isdigit()}
    ids = {int(u) for u in query.users if u.strip().isdigit()}
    wanted = _Matcher(query.names, query.phones)
    users = await session.scalars(
        select(User).where(or_(User.email.in_(emails), User.id.in_(ids))).order_by(User.id)
    )
    found.accounts = list(users)
    if wanted.names:
        named = await session.scalars(select(User).where(User.full_name != "").order_by(User.id))
        found.accounts += [
            u for u in named if wanted.is_name(u.full_name) and u not in found.accounts
        ]
    account_ids = {u.id for u in found.accounts}
    labels = _labels(found.accounts)
    matcher = _matcher(query, found.accounts)

    rows = await session.execute(
        select(Invitation, Meeting, ConnectionPoint)
        .join(Meeting, Meeting.id == Invitation.meeting_id)
        .join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
        .where(or_(Invitation.chair_name.is_not(None), Invitation.chair_phone.is_not(None)))
        .order_by(Meeting.starts_at, Invitation.id)
    )
    found.chair_assignments = [
        (i, m, p)
        for i, m, p in rows.tuples()
        if matcher.is_name(i.chair_name) or wanted.is_phone(i.chair_phone)
    ]
    chaired = {(i.meeting_id, i.point_id) for i, _, _ in found.chair_assignments}
    # The names found with the phone are the person's too (audit entries name a chair so).
    found.names = sorted(
        {*query.names, *(u.full_name for u in found.accounts if u.full_name)}
        | {i.chair_name for i, _, _ in found.chair_assignments if i.chair_name}
    )
    matcher = _Matcher(found.names, query.phones)

    checkins = await session.scalars(select(CheckinRecord).order_by(CheckinRecord.id))
    found.checkins = [
        r
        for r in checkins
        if r.actor_id in account_ids
        or r.actor_label in labels
        or (r.source == "link" and (r.meeting_id, r.point_id) in chaired)
        or matcher.mentions(r.reason)
        or matcher.mentions(r.note)
    ]
    entries = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    found.audit_entries = [
        e
        for e in entries
        if e.actor_id in account_ids
        or e.actor_label in labels
        or matcher.mentions(json.dumps(e.details, ensure_ascii=False))
    ]
    revisions = await session.scalars(select(MinutesRevision).order_by(MinutesRevision.id))
    found.minutes_revisions = [
        r for r in revisions if r.author_id in account_ids or r.author_label in labels
    ]
    states = await session.scalars(
        select(PointAttendance).where(
            or_(PointAttendance.reason.is_not(None), PointAttendance.note.is_not(None))
        )
    )
    found.notes = [s for s in states if matcher.mentions(s.reason) or matcher.mentions(s.note)]
    events = await session.scalars(select(AttendanceEvent).order_by(AttendanceEvent.id))
    found.events = [
        e for e in events if matcher.mentions(json.dumps(e.payload, ensure_ascii=False))
    ]
    minutes = list(await session.scalars(select(Minutes).order_by(Minutes.id)))
    articles = list(await session.scalars(select(Article).order_by(Article.id)))
    found.labelled = [m for m in minutes if m.locked_by_label in labels] + [
        a for a in articles if a.edited_by_label in labels
    ]
    found.mentions = await _mentions(session, matcher, minutes, articles)
    return found


async def _mentions(
    session: DbSession, matcher: _Matcher, minutes: list[Minutes], articles: list[Article]
) -> list[Mention]:
    """The publications and records that name the person (left as they are)."""
    mentions: list[Mention] = []

    def check(
        kind: str, row: Any, meeting_id: int | None, names: tuple[str, ...]
    ) -> Mention | None:
        hits = [name for name in names if matcher.mentions(getattr(row, name))]
        if not hits:
            return None
        mention = Mention(kind, row.id, meeting_id, hits)
        mentions.append(mention)
        return mention

    for article in articles:
        hit = check("article", article, article.meeting_id, ("title", "lead", "body"))
        if hit is not None:
            hit.published = article.status == ArticleStatus.PUBLISHED.value
            hit.title = article.title
            hit.url = article_path(article) if hit.published else None
    for meeting in await session.scalars(select(Meeting).order_by(Meeting.id)):
        fields = ("title", "presiding_official", "description", "status_reason")
        hit = check("meeting", meeting, meeting.id, fields)
        if hit is not None:
            hit.published = meeting.status != "draft"
            hit.title = meeting.title
    for item in await session.scalars(select(AgendaItem).order_by(AgendaItem.id)):
        check("agenda_item", item, item.meeting_id, ("title", "presenter"))
    for record in minutes:
        check("minutes", record, record.meeting_id, ("markdown", "header_markdown"))
    for revision in await session.scalars(select(MinutesRevision).order_by(MinutesRevision.id)):
        check("minutes_revision", revision, None, ("markdown",))
    for photo in await session.scalars(select(NewsPhoto).order_by(NewsPhoto.id)):
        check("photo", photo, photo.meeting_id, ("caption",))
    return mentions


@dataclass(frozen=True)
class Erasure:
    """What an erasure changed (or, in a dry run, would change): counts only."""

    chair_assignments: int
    accounts_deleted: int
    checkins_pseudonymised: int
    audit_entries_pseudonymised: int
    minutes_revisions_pseudonymised: int
    notes_scrubbed: int
    labels_pseudonymised: int
    meetings: int

    def as_dict(self) -> dict[str, int]:
        """The counts, as the audit entry keeps them."""
        return dict(vars(self))


def plan(findings: Findings) -> Erasure:
    """What `erase` would change for these findings."""
    return Erasure(
        chair_assignments=len(findings.chair_assignments),
        accounts_deleted=len(findings.accounts),
        checkins_pseudonymised=len(findings.checkins),
        audit_entries_pseudonymised=len(findings.audit_entries),
        minutes_revisions_pseudonymised=len(findings.minutes_revisions),
        notes_scrubbed=len(findings.notes) + len(findings.events),
        labels_pseudonymised=len(findings.labelled),
        meetings=len(findings.meeting_ids),
    )


async def erase(session: DbSession, findings: Findings) -> Erasure:
    """Erase what `findings` holds (see the module's first lines); the caller commits."""
    summary = plan(findings)
    labels = _labels(findings.accounts)
    matcher = _Matcher(findings.names, findings.query.phones)

    def label(value: str) -> str:
        return PLACEHOLDER if value in labels else matcher.scrub(value)

    for invitation, _, _ in findings.chair_assignments:
        invitation.chair_name = PLACEHOLDER
        invitation.chair_title = invitation.chair_phone = None
        invitation.chair_is_sample = False
    for record in findings.checkins:  # status and delegates stay: the reports still add up
        record.actor_label = label(record.actor_label)
        record.reason = matcher.scrub(record.reason) if record.reason else record.reason
        record.note = matcher.scrub(record.note) if record.note else record.note
    for entry in findings.audit_entries:
        entry.actor_label = label(entry.actor_label)
        entry.details = matcher.scrub_json(entry.details)
    for revision in findings.minutes_revisions:
        revision.author_label = PLACEHOLDER
    for state in findings.notes:
        state.reason = matcher.scrub(state.reason) if state.reason else state.reason
        state.note = matcher.scrub(state.note) if state.note else state.note
    for event in findings.events:
        event.payload = matcher.scrub_json(event.payload)
    for row in findings.labelled:
        if isinstance(row, Minutes):
            row.locked_by_label = PLACEHOLDER
        else:
            row.edited_by_label = PLACEHOLDER
    await session.flush()
    account_ids = [u.id for u in findings.accounts]
    if account_ids:
        # The foreign keys say SET NULL; done here too so no row keeps pointing at the person.
        for model, column in (
            (CheckinRecord, CheckinRecord.actor_id),
            (AuditEntry, AuditEntry.actor_id),
            (MinutesRevision, MinutesRevision.author_id),
            (Meeting, Meeting.created_by_id),
            (NewsPhoto, NewsPhoto.uploaded_by_id),
            (MeetingDocument, MeetingDocument.uploaded_by_id),
        ):
            await session.execute(
                update(model).where(column.in_(account_ids)).values({column.key: None})
            )
        await session.execute(delete(User).where(User.id.in_(account_ids)))
    for meeting_id in sorted(findings.meeting_ids):
        session.add(
            AuditEntry(
                meeting_id=meeting_id,
                actor_id=None,
                actor_label=ERASER_LABEL,
                action=ERASED_ACTION,
                details=summary.as_dict(),
            )
        )
    await session.flush()
    logger.info("personal data erased", extra={"erasure": summary.as_dict()})
    return summary
