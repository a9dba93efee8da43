"""Dependency providers of the attendance domain."""

from __future__ import annotations

from typing import Any

from litestar import Request

from confhub.attendance.writer import AttendanceWriter


def provide_attendance_writer(request: Request[Any, Any, Any]) -> AttendanceWriter:
    """Dependency: the app's one writer of attendance changes (every door's check-ins, signals
    and rehearsals; the live channel holds the same one)."""
    writer: AttendanceWriter = request.app.state.attendance_writer
    return writer
