"""The signals the points domain sends (confhub.core.signals)."""

from __future__ import annotations

from dataclasses import dataclass

from confhub.core.signals import Signal
from confhub.points.contacts import Contacts


@dataclass(frozen=True)
class ContactsChange:
    """A point's contacts before and after one change (both flushed in the sender's
    transaction); `before` is empty for a point that had none."""

    before: Contacts
    after: Contacts


# A point's directory entry changed, in the transaction that changed it.
contacts_changed: Signal[ContactsChange, None] = Signal("points.contacts_changed")
