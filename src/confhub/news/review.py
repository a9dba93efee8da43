"""The review of a meeting's unit articles before they go out: the secretariat's queue, grouped
by what the roll call shows (present / no answer / absent) with its counts, and what a unit's
editor is told (its drafts waiting, and the meetings its point missed, which have no article).

"Ready" has one definition, :func:`ready_clause` in SQL and :func:`is_ready` for an article in
hand: a unit draft that waits for no confirmation and whose point was not absent. Bulk
publishing publishes exactly those, so the confirmation's counts are what goes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from confhub.accounts.principal import Principal
from confhub.attendance import views
from confhub.attendance.models import PointAttendance, RollCallStatus
from confhub.db import DbSession
from confhub.meetings.models import Invitation, Meeting
from confhub.news.models import Article, ArticleStatus, Minutes
from confhub.news.sites import editable_clause
from confhub.points.models import ConnectionPoint
from confhub.units.matching import fold

# The groups of the queue, in the order the page shows them.
GROUPS = ("present", "pending", "absent")
NOTES_SHOWN = 20


def ready_clause() -> ColumnElement[bool]:
    """SQL: the unit drafts bulk publishing publishes."""
    return and_(
        Article.status == ArticleStatus.DRAFT.value,
        Article.unit_code.is_not(None),
        Article.needs_confirmation.is_(False),
        or_(Article.roll_call.is_(None), Article.roll_call != RollCallStatus.ABSENT.value),
    )


def is_ready(article: Article) -> bool:
    """Whether bulk publishing publishes this article (:func:`ready_clause`, in Python)."""
    return (
        article.status == ArticleStatus.DRAFT.value
        and article.unit_code is not None
        and not article.needs_confirmation
        and article.roll_call != RollCallStatus.ABSENT.value
    )


def article_state(article: Article) -> str:
    """The API's `state`: `published`, `needs_confirmation` or `draft` (ready to publish)."""
    if article.status == ArticleStatus.PUBLISHED.value:
        return "published"
    return "needs_confirmation" if article.needs_confirmation else "draft"


@dataclass
class QueueEntry:
    """One invited unit: its roll call now, its points' reasons when absent, and its article."""

    unit_code: int
    unit_name: str
    roll_call: str
    reasons: list[str] = field(default_factory=list)
    article: Article | None = None


@dataclass
class ReviewQueue:
    """A meeting's unit articles grouped by the roll call, with what bulk publishing would do."""

    groups: dict[str, list[QueueEntry]]
    ready: int  # drafts bulk publishing publishes now (one per unit site)
    waiting: int  # drafts waiting for their editor's confirmation
    published: int
    province_article: Article | None

    @property
    def absent(self) -> int:
        """Units whose points were all absent: no article."""
        return len(self.groups["absent"])


async def review_queue(session: DbSession, meeting: Meeting) -> ReviewQueue:
    """The queue of `meeting`: every invited unit in its group, by unit name."""
    points = await views.points(session, meeting.id)
    by_unit: dict[int, list[dict[str, Any]]] = {}
    for point in points:
        if point["unit_code"] is not None:
            by_unit.setdefault(point["unit_code"], []).append(point)
    found = await session.scalars(select(Article).where(Article.meeting_id == meeting.id))
    articles = {article.unit_code: article for article in found}
    groups: dict[str, list[QueueEntry]] = {group: [] for group in GROUPS}
    for unit_code, unit_points in by_unit.items():
        statuses = {p["status"] for p in unit_points}
        roll_call = next(s for s in GROUPS if s in statuses)  # present, else pending, else absent
        groups[roll_call].append(
            QueueEntry(
                unit_code=unit_code,
                unit_name=unit_points[0]["unit_name"] or unit_points[0]["name"],
                roll_call=roll_call,
                reasons=[p["reason"] for p in unit_points if p.get("reason")],
                article=articles.get(unit_code),
            )
        )
    for entries in groups.values():
        # By name as a reader looks for it: "Xã Điền Lư" among the D's, not after "Xã Yên Định".
        entries.sort(key=lambda entry: (fold(entry.unit_name), entry.unit_name))
    unit_articles = [a for code, a in articles.items() if code is not None]
    return ReviewQueue(
        groups=groups,
        ready=sum(is_ready(a) for a in unit_articles),
        waiting=sum(
            a.needs_confirmation and a.status == ArticleStatus.DRAFT.value for a in unit_articles
        ),
        published=sum(a.status == ArticleStatus.PUBLISHED.value for a in unit_articles),
        province_article=articles.get(None),
    )


@dataclass(frozen=True)
class AbsenceNote:
    """An internal note for a unit's editor: its point was absent, so the meeting's published
    minutes gave it no article."""

    meeting_id: int
    title: str
    starts_at: datetime
    reason: str | None


async def count_waiting_drafts(session: DbSession, principal: Principal) -> int:
    """How many unit drafts `principal` edits (for the note on signing in)."""
    found = await session.scalar(
        select(func.count()).where(
            editable_clause(principal),
            Article.status == ArticleStatus.DRAFT.value,
            Article.unit_code.is_not(None),
        )
    )
    return int(found or 0)


async def absence_notes(session: DbSession, unit_code: int) -> list[AbsenceNote]:
    """The meetings with published minutes where this unit's point was absent and the unit has
    no article, newest first."""
    has_article = exists().where(
        Article.meeting_id == Meeting.id, Article.unit_code == ConnectionPoint.unit_code
    )
    rows = await session.execute(
        select(Meeting.id, Meeting.title, Meeting.starts_at, PointAttendance.reason)
        .join(Minutes, Minutes.meeting_id == Meeting.id)
        .join(Invitation, Invitation.meeting_id == Meeting.id)
        .join(ConnectionPoint, ConnectionPoint.id == Invitation.point_id)
        .join(
            PointAttendance,
            (PointAttendance.meeting_id == Meeting.id)
            & (PointAttendance.point_id == Invitation.point_id),
        )
        .where(
            ConnectionPoint.unit_code == unit_code,
            Minutes.published_at.is_not(None),
            PointAttendance.status == RollCallStatus.ABSENT.value,
            ~has_article,
        )
        .order_by(Meeting.starts_at.desc())
        .limit(NOTES_SHOWN)
    )
    notes: dict[int, AbsenceNote] = {}
    for meeting_id, title, starts_at, reason in rows:
        notes.setdefault(meeting_id, AbsenceNote(meeting_id, title, starts_at, reason))
    return list(notes.values())
