"""Dependency providers of the units domain."""

from confhub.core.request_session import service_provider
from confhub.units.services import UnitService

provide_unit_service = service_provider(UnitService)
