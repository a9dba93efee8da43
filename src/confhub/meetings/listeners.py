"""What the meetings domain does when another domain changes: connected by importing this module
(confhub.app and confhub.cli do; see confhub.core.signals)."""

from __future__ import annotations

from confhub.db import DbSession
from confhub.meetings.directory import follow_directory
from confhub.points.signals import ContactsChange, contacts_changed


@contacts_changed.connect
async def chairs_follow_the_directory(session: DbSession, change: ContactsChange) -> None:
    """A point's new directory entry becomes its chair in the meetings not yet held that take
    their chair from the directory."""
    await follow_directory(session, change.after)
