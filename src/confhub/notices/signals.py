"""The signals the notices domain sends (confhub.core.signals)."""

from __future__ import annotations

from dataclasses import dataclass

from confhub.core.signals import Signal


@dataclass(frozen=True)
class NoticeStateChanged:
    """Points' notice states may have changed (an invitation delivered or failed, an answer)."""

    meeting_id: int
    point_ids: tuple[int, ...]


# Sent after the change is committed by the worker, or in the acknowledging transaction; the
# live board learns of it (confhub.attendance.listeners).
notice_state_changed: Signal[NoticeStateChanged, None] = Signal("notices.state_changed")
