"""Who acts on a point's attendance, built in one place for every door (the API, the live
channel, the check-in page): a check-in link, bound to one point, or a signed-in user; and which
points each may answer for."""

from __future__ import annotations

from dataclasses import dataclass

from confhub.accounts.models import Role
from confhub.accounts.principal import Principal
from confhub.meetings.models import Meeting, MeetingStatus
from confhub.points.models import ConnectionPoint

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
