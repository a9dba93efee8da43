"""Dependency providers of the meetings domain."""

from confhub.core.request_session import service_provider
from confhub.meetings.invitations import InvitationService
from confhub.meetings.services import MeetingService

provide_meeting_service = service_provider(MeetingService)

provide_invitation_service = service_provider(InvitationService)
