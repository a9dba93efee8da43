"""The directory of contacts as other domains use it: stored, read in bulk, logged, signalled."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from confhub.points import services
from confhub.points.contacts import Contacts, check_contacts
from confhub.points.models import ContactsAuditEntry
from confhub.points.signals import ContactsChange, contacts_changed

pytestmark = pytest.mark.integration

CAM_TU = 15148


async def test_contacts_are_stored_read_in_bulk_and_logged(db_session: AsyncSession) -> None:
    cam_tu = await services.default_point(db_session, unit_code=CAM_TU)
    other = await services.default_point(db_session, unit_code=14797)
    assert cam_tu is not None and other is not None
    heard: list[ContactsChange] = []

    async def listen(_session: object, change: ContactsChange) -> None:
        heard.append(change)

    contacts_changed.connect(listen)
    try:
        checked = check_contacts(
            cam_tu.id,
            chair_name="Phạm Thị Nhàn",
            chair_position="Chủ tịch UBND xã",
            phones=["+84 912 345 678"],
            email="nhan@camtu.gov.vn",
        )
        assert await services.save_contacts(db_session, checked.contacts, None)
        # The same values again change nothing and log nothing.
        assert not await services.save_contacts(db_session, checked.contacts, None)
    finally:
        contacts_changed._receivers.remove(listen)

    found = await services.contacts_of(db_session, [cam_tu.id, other.id])
    assert set(found) == {cam_tu.id}  # the other point has no entry yet
    assert found[cam_tu.id].chair_name == "Phạm Thị Nhàn"
    assert found[cam_tu.id].phone == "0912345678"
    assert found[cam_tu.id].email == "nhan@camtu.gov.vn"
    assert (await services.contacts_for(db_session, other.id)).is_empty

    assert len(heard) == 1
    assert heard[0].before == Contacts(cam_tu.id)
    assert heard[0].after.chair_name == "Phạm Thị Nhàn"
    log = list(await db_session.scalars(select(ContactsAuditEntry)))
    assert [(e.point_id, e.actor_label, e.action) for e in log] == [
        (cam_tu.id, "system", "updated")
    ]
    assert log[0].details["changes"]["phones"] == [[], ["0912345678"]]


def test_a_sheet_row_replaces_the_chair_and_puts_its_phone_first() -> None:
    known = Contacts(1, "Phạm Thị Nhàn", "Chủ tịch", ("0912345678", "0987654321"), "a@b.vn")
    same = services.merged_from_sheet(
        known, chair_name="Phạm Thị Nhàn", chair_position=None, phone="0987654321", email=None
    )
    assert same.phones == ("0987654321", "0912345678")
    assert (same.chair_position, same.email) == ("Chủ tịch", "a@b.vn")
    other = services.merged_from_sheet(
        known, chair_name="Lê Văn Hùng", chair_position="Phó Chủ tịch", phone=None, email=None
    )
    # A new chair: the previous chair's numbers and address are not theirs.
    assert (other.phones, other.email) == ((), None)
