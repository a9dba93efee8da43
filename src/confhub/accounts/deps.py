"""Dependency providers of the accounts domain."""

from advanced_alchemy.extensions.litestar.providers import create_service_provider

from confhub.accounts.services import UserService

provide_user_service = create_service_provider(UserService)
