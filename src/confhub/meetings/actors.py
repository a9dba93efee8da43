"""Who acts for a connection point in a meeting, built in one place for every door: a check-in
link, bound to one point, or a signed-in user; and which points each may act for.

A request names its link by the `X-Checkin-Token` header or `?token=` (the check-in page by its
path, the live channel by `?token=`); :func:`request_actor` turns either credential into an
:class:`Actor` for the JSON doors, and every other door builds its actor with
:meth:`Actor.of_link` or :meth:`Actor.of_user`. The roll call, link signals and rehearsals
(attendance) and the answers to invitations ask here, so a link acts the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection

from confhub.accounts.guards import current_principal
from confhub.accounts.models import Role
from confhub.accounts.principal import Principal
from confhub.core.errors import AuthenticationRequiredError, NotFoundError
from confhub.core.i18n import N_
from confhub.db import DbSession
from confhub.meetings.models import Meeting, MeetingStatus
from confhub.meetings.tokens import find_invitation
from confhub.points.models import ConnectionPoint

TOKEN_HEADER = "x-checkin-token"  # noqa: S105 - a header name, not a secret
# A point is answered for (and its link reported on) while its meeting is on the calendar.
ANSWERING_STATUSES = frozenset({MeetingStatus.SCHEDULED.value, MeetingStatus.LIVE.value})


@dataclass(frozen=True)
class Actor:
    """Who acts on a point: a check-in link (bound to one point) or a signed-in user."""

    label: str
    principal: Principal | None = None
    link_point_id: int | None = None

    @classmethod
    def of_link(cls, point_id: int) -> Actor:
        """A check-in link: it acts for its own point only."""
        return cls(label=f"link:point:{point_id}", link_point_id=point_id)

    @classmethod
    def of_user(cls, principal: Principal) -> Actor:
        """A signed-in user, known by e-mail in the check-in history."""
        return cls(label=principal.email, principal=principal)

    @property
    def source(self) -> str:
        """How the answer came in, kept with each check-in record."""
        if self.principal is None:
            return "link"
        return "secretariat" if self.principal.role in (Role.ADMIN, Role.SECRETARIAT) else "chair"


def may_act_for_point(actor: Actor, meeting: Meeting, point: ConnectionPoint) -> bool:
    """A link acts for its own point; a chair for its unit's points; the secretariat for any."""
    if actor.principal is None:
        return actor.link_point_id == point.id
    principal = actor.principal
    if principal.manages_province(meeting.province_code):
        return True
    return principal.role is Role.CHAIR and principal.unit_code == point.unit_code


async def request_actor(
    connection: ASGIConnection[Any, Any, Any, Any], session: DbSession, meeting_id: int
) -> Actor:
    """The point of the check-in link the request carries (`X-Checkin-Token`, else `?token=`),
    or the signed-in user: 404 for a link that is unknown, revoked or of another meeting, 401
    when the request carries neither."""
    token = connection.headers.get(TOKEN_HEADER) or connection.query_params.get("token")
    if token:
        invitation = await find_invitation(session, token, meeting_id=meeting_id)
        if invitation is None:
            raise NotFoundError(N_("This check-in link is unknown or has been revoked"))
        return Actor.of_link(invitation.point_id)
    principal = current_principal(connection)
    if principal is None:
        raise AuthenticationRequiredError(N_("Sign in, or use the point's check-in link"))
    return Actor.of_user(principal)
