"""The signals the meetings domain sends (confhub.core.signals)."""

from __future__ import annotations

from confhub.core.signals import Signal
from confhub.meetings.models import Meeting

# A meeting moved one status step (its new `status` and `status_reason` are set and flushed),
# in the transaction that moved it.
status_changed: Signal[Meeting, None] = Signal("meetings.status_changed")
