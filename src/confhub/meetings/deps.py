"""Dependency providers of the meetings domain."""

from advanced_alchemy.extensions.litestar.providers import create_service_provider

from confhub.meetings.invitations import InvitationService
from confhub.meetings.services import MeetingService

provide_meeting_service = create_service_provider(MeetingService)

provide_invitation_service = create_service_provider(InvitationService)
