"""`/api/v1/points/{id}/contacts`: a connection point's standing directory entry."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.guards import provide_principal
from confhub.accounts.principal import Principal
from confhub.core.ids import Id
from confhub.meetings import directory
from confhub.meetings.schemas import ContactsRead, ContactsWrite
from confhub.points import services as points
from confhub.points.contacts import Contacts


def contacts_read(contacts: Contacts) -> ContactsRead:
    """The API view of an entry."""
    return ContactsRead(point_id=contacts.point_id, **contacts.values())


class PointContactsApiController(Controller):
    """Who chairs a point and how to reach them, reused by every meeting it is invited to.

    Readable by the province's secretariat and admins and by the point's own unit; changed by
    the secretariat and admins. Anonymous callers get 401, others 403."""

    path = "/api/v1/points/{point_id:int}/contacts"
    tags = ["points"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", summary="A point's contacts")
    async def get_contacts(
        self, db_session: AsyncSession, principal: Principal | None, point_id: Id
    ) -> ContactsRead:
        """The entry; every field empty when nobody has filled it in."""
        point = await directory.readable_point(db_session, principal, point_id)
        return contacts_read(await points.contacts_for(db_session, point.id))

    @put("/", status_code=HTTP_200_OK, summary="Replace a point's contacts (secretariat)")
    async def put_contacts(
        self,
        db_session: AsyncSession,
        principal: Principal | None,
        point_id: Id,
        data: ContactsWrite,
    ) -> ContactsRead:
        """Store the whole entry (changes go to the point's audit log); a malformed phone or
        e-mail is a 400 naming the field."""
        point = await directory.editable_point(db_session, principal, point_id)
        assert principal is not None
        saved = await directory.save(
            db_session,
            principal,
            point,
            chair_name=data.chair_name,
            chair_position=data.chair_position,
            phones=data.phones,
            email=data.email,
            technician_phone=data.technician_phone,
        )
        return contacts_read(saved)
