"""The signals the meetings domain sends (confhub.core.signals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from confhub.accounts.principal import Principal
from confhub.core.signals import Signal
from confhub.meetings.models import Meeting


@dataclass(frozen=True)
class PointsInvited:
    """Points newly invited to a meeting (their invitations are flushed)."""

    meeting: Meeting
    point_ids: tuple[int, ...]


@dataclass(frozen=True)
class MeetingChanged:
    """A meeting's fields changed: each changed field's `[old, new]` (as the audit log has it)."""

    meeting: Meeting
    changes: dict[str, list[Any]]


@dataclass(frozen=True)
class LinkReissued:
    """A point's check-in link was replaced; the old one no longer opens anything."""

    meeting: Meeting
    point_id: int


@dataclass(frozen=True)
class PointsListed:
    """A list of a meeting's invited points is being answered: the domains above may add
    fields of their own to each point (a receiver answers `{point_id: {field: value}}`)."""

    meeting_id: int
    point_ids: tuple[int, ...]


# A meeting moved one status step (its new `status` and `status_reason` are set and flushed),
# in the transaction that moved it.
status_changed: Signal[Meeting, None] = Signal("meetings.status_changed")
# Points were invited, in the transaction that invited them.
points_invited: Signal[PointsInvited, None] = Signal("meetings.points_invited")
# A meeting's title, times, place or agenda changed, in the transaction that changed them.
meeting_changed: Signal[MeetingChanged, None] = Signal("meetings.meeting_changed")
# A point's check-in link was reissued, in the transaction that reissued it.
link_reissued: Signal[LinkReissued, None] = Signal("meetings.link_reissued")
# A list of invited points is being read: what each receiver adds to every point.
points_listed: Signal[PointsListed, dict[int, dict[str, Any]]] = Signal("meetings.points_listed")


@dataclass(frozen=True)
class HomeNote:
    """What a signed-in person is told first on the home page: a message id of the catalogs
    (marked with `N_`) with its values, and the page it leads to."""

    message: str
    href: str
    link_text: str
    values: dict[str, Any] = field(default_factory=dict)


# The home page is about to be shown to a signed-in person (only a read: nothing is written);
# a domain above answers with a note for them, or None.
home_shown: Signal[Principal, HomeNote | None] = Signal("meetings.home_shown")
