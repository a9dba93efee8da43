"""What the news domain does when another domain acts: connected by importing this module
(confhub.app and confhub.cli do; see confhub.core.signals)."""

from __future__ import annotations

from confhub.accounts.principal import Principal
from confhub.core.i18n import N_
from confhub.db import DbSession
from confhub.meetings.signals import HomeNote, home_shown
from confhub.news.review import count_waiting_drafts
from confhub.news.sites import UNIT_EDITOR_ROLES


@home_shown.connect
async def drafts_waiting(session: DbSession, principal: Principal) -> HomeNote | None:
    """A unit's editor, on signing in, is told its drafts wait for review, with a link to its
    news page (which lists them, and the meetings its point missed)."""
    if principal.role not in UNIT_EDITOR_ROLES or principal.unit_code is None:
        return None
    count = await count_waiting_drafts(session, principal)
    if not count:
        return None
    return HomeNote(
        message=N_("Drafts waiting for review: %(count)s"),
        values={"count": count},
        href=f"/units/{principal.unit_code}/news",
        link_text=N_("Review them"),
    )
