"""The chair's answer to the invitation through the API: by the check-in link's token or a
session allowed to check the point in; 201 for a first or changed answer, 200 when unchanged,
409 once the meeting has ended; the points list shows it; the secretariat resends with 202."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.integration.notices.conftest import new_meeting, outbox_rows

pytestmark = pytest.mark.integration


def test_a_chair_answers_by_link_and_the_points_list_shows_it(secretariat, demo_seed) -> None:
    meeting_id = demo_seed.upcoming_meeting_id
    points = secretariat.get(f"/api/v1/meetings/{meeting_id}/points?limit=500").json()["items"]
    cam_tu = next(p for p in points if p["unit_code"] == 15148)
    other = next(p for p in points if p["unit_code"] != 15148)
    url = f"/api/v1/meetings/{meeting_id}/acknowledgements"
    headers = {"X-Checkin-Token": demo_seed.cam_tu_token}
    answer = {"point_id": cam_tu["point_id"], "status": "received", "delegates_expected": 12}
    first = secretariat.post(url, json=answer, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["delegates_expected"] == 12
    again = secretariat.post(url, json=answer, headers=headers)
    assert again.status_code == 200
    declined = {"point_id": cam_tu["point_id"], "status": "declined", "reason": "Mất điện"}
    assert secretariat.post(url, json=declined, headers=headers).status_code == 201
    # The link answers for its own point only.
    foreign = {"point_id": other["point_id"], "status": "received", "delegates_expected": 3}
    assert secretariat.post(url, json=foreign, headers=headers).status_code == 403
    # A refusal needs its reason; an unknown field is refused, not dropped.
    no_reason = {"point_id": cam_tu["point_id"], "status": "declined"}
    assert secretariat.post(url, json=no_reason, headers=headers).status_code == 400
    extra = {**answer, "colour": "red"}
    assert secretariat.post(url, json=extra, headers=headers).status_code == 400
    points = secretariat.get(f"/api/v1/meetings/{meeting_id}/points?limit=500").json()["items"]
    cam_tu = next(p for p in points if p["unit_code"] == 15148)
    assert cam_tu["notice_state"] == "declined"
    assert cam_tu["acknowledgement"]["status"] == "declined"
    assert cam_tu["acknowledgement"]["reason"] == "Mất điện"
    assert cam_tu["acknowledgement"]["delegates_expected"] is None
    # The secretariat's session answers for any of its points.
    assert secretariat.post(url, json=foreign).status_code == 201


def test_anonymous_without_a_link_is_refused_and_an_ended_meeting_is_409(
    client, secretariat, demo_seed
) -> None:
    past = demo_seed.past_meeting_id
    points = secretariat.get(f"/api/v1/meetings/{past}/points").json()["items"]
    answer = {"point_id": points[0]["point_id"], "status": "received", "delegates_expected": 1}
    assert (
        secretariat.post(f"/api/v1/meetings/{past}/acknowledgements", json=answer).status_code
        == 409
    )
    client.post("/logout")
    client.cookies.clear()
    upcoming = demo_seed.upcoming_meeting_id
    response = client.post(f"/api/v1/meetings/{upcoming}/acknowledgements", json=answer)
    assert response.status_code in (401, 404)


def test_the_secretariat_resends_to_chosen_points(make_client, demo_seed, demo_db) -> None:
    client = make_client()
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    meeting_id, by_unit = new_meeting(client, units=[15148, 14797])
    before = len(outbox_rows(demo_db, meeting_id))
    url = f"/api/v1/meetings/{meeting_id}/notices"
    response = client.post(url, json={"kind": "invitation", "point_ids": [by_unit[15148]]})
    assert response.status_code == 202
    assert response.json() == {"queued": 1}
    assert client.post(url, json={"kind": "reminder"}).json() == {"queued": 2}
    rows = outbox_rows(demo_db, meeting_id)
    assert len(rows) == before + 3
    assert client.post(url, json={"kind": "invitation", "point_ids": [999999]}).status_code == 400
    assert client.post(url, json={"kind": "cancellation"}).status_code == 400
