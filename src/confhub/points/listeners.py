"""What the points domain does when another domain changes: connected by importing this module
(confhub.app and confhub.cli do; see confhub.core.signals)."""

from __future__ import annotations

from confhub.db import DbSession
from confhub.points.services import ensure_default_points
from confhub.units.signals import units_loaded


@units_loaded.connect
async def create_default_points(session: DbSession, province_codes: frozenset[int]) -> int:
    """Every loaded unit and province gets its default connection point; how many were new."""
    return await ensure_default_points(session, province_codes)
