"""Check-in links: making their tokens and finding the invitation behind one.

Every place that accepts a check-in token (the `/checkin/{token}` pages, the check-in API's
`?token=` or `X-Checkin-Token`, the live channel's `?token=`) asks `find_invitation`, so a
malformed, unknown and revoked token all get the same answer: nothing. How tokens are made,
stored and compared is `confhub.core.tokens`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from confhub.core import tokens
from confhub.db import DbSession
from confhub.meetings.models import Invitation, Meeting


def new_checkin_token() -> str:
    """An unguessable check-in link secret (128 bits, URL-safe)."""
    return tokens.new_token()


async def find_invitation(
    session: DbSession,
    token: str | None,
    *,
    meeting_id: int | None = None,
    with_meeting: bool = False,
) -> Invitation | None:
    """The invitation whose check-in link carries `token` (of `meeting_id`, when given).

    None for a token that is malformed (refused before any query), unknown, revoked or of
    another meeting. `with_meeting` loads the meeting (with its province) and the point too.
    """
    if token is None or not tokens.well_formed(token):
        return None
    query = select(Invitation).where(Invitation.checkin_token_digest == tokens.token_digest(token))
    if meeting_id is not None:
        query = query.where(Invitation.meeting_id == meeting_id)
    if with_meeting:
        query = query.options(
            selectinload(Invitation.meeting).selectinload(Meeting.province),
            selectinload(Invitation.point),
        )
    invitation = await session.scalar(query)
    if invitation is None or not tokens.same_token(invitation.checkin_token, token):
        return None
    return invitation
