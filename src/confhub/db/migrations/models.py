"""Every domain's models, so the metadata Alembic compares against is complete.

Only Alembic (`env.py` beside this file) and the test that compares the models with the
migrations need them all at once. This folder is Alembic's script directory, loaded by path and
not a package of confhub's own, so `confhub.db` itself imports no domain (the layers contract in
pyproject.toml).
"""

from confhub.accounts.models import User
from confhub.attendance.desk.models import Announcement, AnnouncementReceipt, Incident
from confhub.attendance.models import AttendanceEvent, CheckinRecord, PointAttendance
from confhub.attendance.speaking.models import SpeakingRequest
from confhub.db.base import metadata
from confhub.meetings.models import AgendaItem, AuditEntry, Invitation, Meeting, MeetingDocument
from confhub.news.models import Article, Minutes, MinutesRevision, NewsPhoto, SiteVisitDay
from confhub.notices.models import Acknowledgement, Notice, NoticeDelivery
from confhub.points.models import ConnectionPoint, ContactsAuditEntry, PointContacts
from confhub.units.models import Province, Unit, UnitDataset

__all__ = [
    "Acknowledgement",
    "AgendaItem",
    "Announcement",
    "AnnouncementReceipt",
    "Article",
    "AttendanceEvent",
    "AuditEntry",
    "CheckinRecord",
    "ConnectionPoint",
    "ContactsAuditEntry",
    "Incident",
    "Invitation",
    "Meeting",
    "MeetingDocument",
    "Minutes",
    "MinutesRevision",
    "NewsPhoto",
    "Notice",
    "NoticeDelivery",
    "PointAttendance",
    "PointContacts",
    "Province",
    "SiteVisitDay",
    "SpeakingRequest",
    "Unit",
    "UnitDataset",
    "User",
    "metadata",
]
