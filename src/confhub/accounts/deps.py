"""Dependency providers of the accounts domain."""

from confhub.accounts.services import UserService
from confhub.core.request_session import service_provider

provide_user_service = service_provider(UserService)
