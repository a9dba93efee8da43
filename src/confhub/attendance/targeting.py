"""Targeted fan-out: which live clients a delta goes to, and what each sees of it.

A board (no `point_ids`) sees every delta whole. A point's client sees the meeting's own
deltas, those about its point (`point_id`), and those naming it among the points concerned
(`to_points`, e.g. a speaking queue's change); a delta type may shape what a point sees of it
(`POINT_VIEWS`: the speaking queue shows a point only its own requests and its place).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from confhub.attendance.desk import announcements
from confhub.attendance.speaking.queue import TO_POINTS, point_view

PointView = Callable[[dict[str, Any], frozenset[int]], dict[str, Any] | None]

# Delta type → what a point's client sees of it (None: not for it).
POINT_VIEWS: dict[str, PointView] = {
    "speaking": point_view,
    "announcement": announcements.point_view,
}


def view_for(message: dict[str, Any], point_ids: frozenset[int] | None) -> dict[str, Any] | None:
    """The delta as a client watching `point_ids` (None: a board) receives it, or None."""
    if point_ids is None:
        return message
    shape = POINT_VIEWS.get(message.get("type", ""))
    if shape is not None:
        return shape(message, point_ids)
    point_id = message.get("point_id")
    if point_id is not None:
        return message if point_id in point_ids else None
    concerned = message.get(TO_POINTS)
    if concerned is not None and not set(concerned) & point_ids:
        return None
    return message


def concerned_points(message: dict[str, Any]) -> list[int] | None:
    """The points a delta is for besides the boards (None: every client of the meeting)."""
    point_id = message.get("point_id")
    if point_id is not None:
        return [point_id]
    concerned = message.get(TO_POINTS)
    return list(concerned) if concerned is not None else None
