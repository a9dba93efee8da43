"""When the invited points are reminded of a meeting: lead times before its start, set per
meeting (24 hours and 60 minutes before unless set). Stored as minutes; NULL is the default,
so a meeting left alone follows it.

The notices' worker (confhub.notices.outbox) records each reminder as its lead is reached, for
the meeting's current start: they move with a reschedule, vanish with a cancellation, and a
lead removed here is no longer sent. The checks are here, whatever door the values come through
(the API, the meeting form).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_
from confhub.core.messages import Message

DEFAULT_MINUTES = (24 * 60, 60)
# Bounds: a reminder at least 5 minutes and at most a week before the start; at most four.
MIN_MINUTES = 5
MAX_MINUTES = 7 * 24 * 60
MAX_REMINDERS = 4
# The choices the meeting form offers (a meeting's own values are shown beside them).
FORM_CHOICES = (3 * 24 * 60, 24 * 60, 3 * 60, 60, 30, 15)


def check_reminders(values: Iterable[int], field: str = "reminder_minutes") -> list[int]:
    """Lead times in minutes, checked: each from MIN_MINUTES to MAX_MINUTES, at most
    MAX_REMINDERS; answered without repeats, the earliest reminder first. An empty list: none."""
    leads = sorted(set(values), reverse=True)
    for minutes in leads:
        if isinstance(minutes, bool) or not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise InvalidInputError(
                field,
                N_("each reminder is %(low)s to %(high)s minutes before the start"),
                low=MIN_MINUTES,
                high=MAX_MINUTES,
            )
    if len(leads) > MAX_REMINDERS:
        raise InvalidInputError(field, N_("at most %(n)s reminders"), n=MAX_REMINDERS)
    return leads


def stored(values: Iterable[int]) -> list[int] | None:
    """What a meeting stores for the lead times `values` (checked): NULL when they are the
    default, so the meeting keeps following it."""
    leads = check_reminders(values)
    return None if leads == list(DEFAULT_MINUTES) else leads


def minutes_of(stored: list[int] | None) -> list[int]:
    """The lead times a meeting has: as stored, or the default."""
    return list(DEFAULT_MINUTES) if stored is None else list(stored)


def leads_of(stored: list[int] | None) -> tuple[timedelta, ...]:
    """The same as durations, the earliest reminder first."""
    return tuple(timedelta(minutes=m) for m in minutes_of(stored))


def lead_words(minutes: int) -> Message:
    """A lead time as a person says it: "3 days", "24 h", "60 min", "90 min"."""
    if minutes % (24 * 60) == 0 and minutes > 24 * 60:
        return Message(N_("%(n)s days"), {"n": minutes // (24 * 60)})
    if minutes % 60 == 0 and minutes > 60:
        return Message(N_("%(n)s h"), {"n": minutes // 60})
    return Message(N_("%(n)s min"), {"n": minutes})
