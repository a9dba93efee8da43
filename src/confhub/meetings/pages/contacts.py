"""The directory of contacts for the secretariat: every point of its province with its chair,
phones and e-mail (`/points`), and one point's entry to read and change, with its log
(`/points/{id}/contacts`). A point's own unit may read its entry; only the secretariat changes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.accounts.guards import provide_required_principal, requires_login
from confhub.accounts.principal import Principal
from confhub.core.errors import ConfhubError, PermissionDeniedError
from confhub.core.forms import form_text, form_values, page_errors, see_other, submit
from confhub.core.i18n import N_
from confhub.core.ids import MAX_CODE, Id
from confhub.core.messages import Renderable
from confhub.meetings import directory
from confhub.points import services as points
from confhub.points.models import ConnectionPoint
from confhub.units.models import Province, Unit

FORM_FIELDS = ("chair_name", "chair_position", "phones", "email", "technician_phone")


def _phones_of(text: str) -> list[str]:
    """The phones field: one number a line, or several separated by commas or semicolons."""
    return [p.strip() for p in text.replace(";", "\n").replace(",", "\n").splitlines() if p.strip()]


class ContactsPagesController(Controller):
    """`/points` and `/points/{id}/contacts`."""

    include_in_schema = False
    guards = [requires_login]
    dependencies = {"principal": Provide(provide_required_principal, sync_to_thread=False)}

    @get("/points", name="directory")
    async def directory_page(
        self,
        db_session: AsyncSession,
        principal: Principal,
        province: int | None = Parameter(query="province", default=None, ge=1, le=MAX_CODE),
    ) -> Template:
        """A province's points with their contacts (the secretariat's own province; an admin
        chooses with `?province=`)."""
        code = province if province is not None else principal.province_code
        if code is None and principal.is_admin:
            # An admin without a province of its own chooses one first.
            provinces = await db_session.scalars(select(Province).order_by(Province.name))
            return Template("meetings/directory.html", context={"provinces": list(provinces)})
        if code is None or not principal.manages_province(code):
            raise PermissionDeniedError(N_("Only the province's secretariat may see its directory"))
        entries = await directory.province_directory(db_session, code)
        context = {
            "province": await db_session.get(Province, code),
            "entries": entries,
            "missing": sum(1 for e in entries if not e.contacts.chair_name),
            "to_check": sum(1 for e in entries if e.to_check),
        }
        return Template("meetings/directory.html", context=context)

    @get("/points/{point_id:int}/contacts", name="point_contacts")
    async def contacts_page(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        principal: Principal,
        point_id: Id,
    ) -> Template:
        """One point's entry: a form for the secretariat, read-only for the point's unit."""
        point = await directory.readable_point(db_session, principal, point_id)
        return await self._render(request, db_session, principal, point)

    async def _render(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        principal: Principal,
        point: ConnectionPoint,
        *,
        errors: Mapping[str, Renderable] | None = None,
        values: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Template:
        contacts = await points.contacts_for(db_session, point.id)
        manage = principal.manages_province(point.province_code)
        unit = await db_session.get(Unit, point.unit_code) if point.unit_code else None
        context = {
            "point": point,
            "unit": unit,
            "contacts": contacts,
            "to_check": sorted(
                (await points.phones_to_check(db_session, [point.id])).get(point.id, ())
            ),
            "manage": manage,
            "history": await points.history(db_session, point.id, limit=50) if manage else [],
            "errors": page_errors(request, errors),
            "values": values
            or {
                "chair_name": contacts.chair_name or "",
                "chair_position": contacts.chair_position or "",
                "phones": "\n".join(contacts.phones),
                "email": contacts.email or "",
                "technician_phone": contacts.technician_phone or "",
            },
        }
        return Template("meetings/contacts.html", context=context, status_code=status_code)

    @post("/points/{point_id:int}/contacts")
    async def save_contacts(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        principal: Principal,
        point_id: Id,
    ) -> Template | Redirect:
        """Store the entry from the form; a wrong phone or e-mail shows the form again."""
        point = await directory.editable_point(db_session, principal, point_id)
        form = await request.form()

        async def refused(error: ConfhubError) -> Template:
            field = (error.field or "").split("[")[0]
            key = field if field in FORM_FIELDS else "_form"
            # The rollback expired the point: read it again.
            again = await directory.readable_point(db_session, principal, point_id)
            return await self._render(
                request,
                db_session,
                principal,
                again,
                errors={key: error.message},
                values=form_values(form, *FORM_FIELDS),
            )

        return await submit(
            db_session,
            lambda: directory.save(
                db_session,
                principal,
                point,
                chair_name=form_text(form, "chair_name"),
                chair_position=form_text(form, "chair_position"),
                phones=_phones_of(form_text(form, "phones")),
                email=form_text(form, "email"),
                technician_phone=form_text(form, "technician_phone"),
            ),
            done=see_other(f"/points/{point_id}/contacts", "contacts_saved"),
            refused=refused,
        )
