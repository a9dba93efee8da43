"""Dependency providers of the units domain."""

from advanced_alchemy.extensions.litestar.providers import create_service_provider

from confhub.units.services import UnitService

provide_unit_service = create_service_provider(UnitService)
