"""HTTP API of the meetings domain, one controller per resource."""

from confhub.meetings.controllers.contacts import PointContactsApiController
from confhub.meetings.controllers.documents import DocumentApiController
from confhub.meetings.controllers.invitations import InvitationApiController
from confhub.meetings.controllers.meetings import MeetingApiController

__all__ = [
    "DocumentApiController",
    "InvitationApiController",
    "MeetingApiController",
    "PointContactsApiController",
]
