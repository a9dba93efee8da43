"""A unit's editors are told by e-mail that a draft of theirs waits for review (issue #17): the
sign-in note (confhub.news.listeners) says it to an editor who comes; this reaches one who does
not. One notice per draft, recorded through the notices' outbox (its tables, worker and e-mail
transport) in the transaction of the publication that made the draft: a draft rewritten by a
republication (a late roll-call answer) is the same draft and is not told again; an absent
unit has no draft, so nothing is told; a draft removed before its message left withdraws it.

The editors are the unit's active accounts that edit its articles (`UNIT_EDITOR_ROLES`: its
editor and its chair, as the sign-in note counts them), at their sign-in e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from confhub.accounts.models import User
from confhub.db import DbSession
from confhub.meetings.models import Meeting
from confhub.news.models import Article
from confhub.news.sites import UNIT_EDITOR_ROLES
from confhub.notices import recording
from confhub.notices.models import NoticeKind
from confhub.notices.recording import Person

WITHDRAWN = "the draft was removed"


@dataclass(frozen=True)
class NewDraft:
    """A unit draft a publication created, with the point it tells of (the unit's first invited
    point, which the outbox names) and the unit's name."""

    article: Article
    point_id: int
    unit_name: str


def dedupe_key(article_id: int) -> str:
    """The key that makes a draft's notice exist once."""
    return f"draft_review:{article_id}"


async def editors_of(session: DbSession, unit_codes: set[int]) -> dict[int, list[Person]]:
    """Each unit's editors who can be written to."""
    if not unit_codes:
        return {}
    rows = await session.execute(
        select(User.unit_code, User.email, User.full_name)
        .where(
            User.unit_code.in_(unit_codes),
            User.role.in_([role.value for role in UNIT_EDITOR_ROLES]),
            User.is_active.is_(True),
        )
        .order_by(User.id)
    )
    found: dict[int, list[Person]] = {}
    for unit_code, email, name in rows:
        if unit_code is not None and email:
            found.setdefault(unit_code, []).append(Person(email=email, name=name or ""))
    return found


async def tell_editors(session: DbSession, meeting: Meeting, drafts: Sequence[NewDraft]) -> int:
    """Record a notice to the editors of each new draft's unit; how many drafts were told of
    (a unit without an editor to write to is not)."""
    editors = await editors_of(
        session, {d.article.unit_code for d in drafts if d.article.unit_code is not None}
    )
    told = 0
    for draft in drafts:
        article = draft.article
        people = editors.get(article.unit_code or -1, [])
        payload = {
            "article_id": article.id,
            "unit_code": article.unit_code,
            "unit_name": draft.unit_name,
            "title": article.title,
            "path": f"/articles/{article.id}/edit",
            "roll_call": article.roll_call,
        }
        told += await recording.record_to_people(
            session,
            meeting,
            draft.point_id,
            NoticeKind.DRAFT_REVIEW,
            people,
            payload,
            dedupe_key=dedupe_key(article.id),
        )
    return told


async def withdraw(session: DbSession, article_id: int) -> None:
    """The draft is going: its editors' messages not yet sent are not sent."""
    await recording.withdraw(session, dedupe_key(article_id), WITHDRAWN)
