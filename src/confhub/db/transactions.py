"""The request's transaction, and the one reason a handler ends it early.

A request's session (`db_session`, and every service its providers build on it) is committed
before the answer starts when it is a 2xx or a redirect, and rolled back otherwise
(`confhub.core.request_session.RequestTransaction`): that is confhub's only transaction policy, and
neither handlers nor services commit it themselves. The exception is named here. A refused web
form rolls back what its action did before the page is shown again
(`confhub.core.forms.submit`); sessions a piece of work opens for itself (the attendance writer,
the live channel, the notices' outbox, the CLI) commit their own.
"""

from __future__ import annotations

from confhub.db import DbSession


async def release_connection(session: DbSession) -> None:
    """Commit what the request has done so far and hand its pooled connection back, before a
    wait that needs none: the attendance writer's queue (which stores in transactions of its
    own) or the password hashing thread.

    In a burst, a few hundred requests wait there at once; each holding a connection would take
    the whole pool (the writer's own and the live channel's included). Anything the request does
    afterwards opens a new transaction, committed by the plugin as usual; objects already read
    stay usable (`expire_on_commit=False`).
    """
    await session.commit()
