"""Server-rendered pages of the meetings domain, one controller per concern.

`MeetingPagesController` holds the public pages (home, a meeting); the others are the signed-in
pages of scheduling (the check-in link's page lives in `attendance`). `PAGE_CONTROLLERS` is
what the app registers.
"""

from confhub.meetings.pages.audit_log import HistoryPagesController
from confhub.meetings.pages.calendar import CalendarPagesController
from confhub.meetings.pages.contacts import ContactsPagesController
from confhub.meetings.pages.documents import DocumentPagesController
from confhub.meetings.pages.editing import EditingPagesController
from confhub.meetings.pages.points import PointPagesController
from confhub.meetings.pages.public import MeetingPagesController
from confhub.meetings.pages.sheets import SheetPagesController

PAGE_CONTROLLERS = [
    MeetingPagesController,
    CalendarPagesController,
    EditingPagesController,
    PointPagesController,
    SheetPagesController,
    DocumentPagesController,
    ContactsPagesController,
    HistoryPagesController,
]

__all__ = [
    "PAGE_CONTROLLERS",
    "CalendarPagesController",
    "ContactsPagesController",
    "DocumentPagesController",
    "EditingPagesController",
    "HistoryPagesController",
    "MeetingPagesController",
    "PointPagesController",
    "SheetPagesController",
]
