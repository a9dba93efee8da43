"""The base of confhub's repository services: Advanced Alchemy's, with its session named.

A service's rules need its own table (through `repository`) and, now and then, a query of
another table (the points of a meeting's province): those use `session`, the same session the
repository holds, so no caller reaches through `service.repository.session`.
"""

from __future__ import annotations

from advanced_alchemy.repository.typing import ModelT, SQLAlchemyAsyncRepositoryT
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService

from confhub.db import DbSession


class RepositoryService(SQLAlchemyAsyncRepositoryService[ModelT, SQLAlchemyAsyncRepositoryT]):
    """A repository service whose session is `session`: the request's, from its provider."""

    @property
    def session(self) -> DbSession:
        """The session of the repository (and of the request that provided the service)."""
        return self.repository.session
