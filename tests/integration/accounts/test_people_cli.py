"""`confhub people export` and `confhub people erase`: one person's data, found by phone, name
or account, printed as JSON, or erased (names replaced, phones removed, accounts deleted) while
the roll-call numbers stay."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner, Result
from litestar import Litestar
from litestar.testing import TestClient

from confhub.cli import main
from confhub.demo import DemoSeed
from tests.conftest import TEST_SECRET, login

pytestmark = pytest.mark.integration

CAM_TU = 15148
NAME = "Trịnh Văn Khải"
PHONE = "0912 345 678"
PLACEHOLDER = "(đã xoá)"


def people(database_url: str, *args: str, stdin: str | None = None) -> Result:
    """Run `confhub people ARGS` on the database."""
    env = {"CONFHUB_DATABASE_URL": database_url, "CONFHUB_SECRET_KEY": TEST_SECRET}
    return CliRunner().invoke(main, ["people", *args], env=env, input=stdin)


def exported(database_url: str, *args: str) -> dict[str, Any]:
    """The export's JSON."""
    result = people(database_url, "export", *args)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


class Chaired:
    """The upcoming demo meeting, with our chair at Cẩm Tú's point, who has checked in."""

    def __init__(self, secretariat: TestClient[Litestar], meeting_id: int) -> None:
        self.secretariat, self.meeting_id = secretariat, meeting_id
        self.point_id = self.cam_tu()["point_id"]
        named = secretariat.put(
            f"/api/v1/meetings/{meeting_id}/points/{self.point_id}/chair",
            json={"name": NAME, "title": "Chủ tịch UBND xã", "phone": PHONE},
        )
        assert named.status_code == 200, named.text
        token = self.cam_tu()["checkin_url"].rsplit("/", 1)[-1]
        answered = secretariat.post(
            f"/api/v1/meetings/{meeting_id}/checkins",
            headers={"x-checkin-token": token},
            json={
                "point_id": self.point_id,
                "status": "present",
                "delegates_present": 12,
                "idempotency_key": "people-cli",
            },
        )
        assert answered.status_code == 201, answered.text

    def cam_tu(self) -> dict[str, Any]:
        """The secretariat's view of Cẩm Tú's point."""
        points = self.secretariat.get(
            f"/api/v1/meetings/{self.meeting_id}/points", params={"limit": 500}
        ).json()["items"]
        point: dict[str, Any] = next(p for p in points if p["unit_code"] == CAM_TU)
        return point

    def attendance(self) -> dict[str, Any]:
        """The meeting's attendance as the secretariat reads it."""
        response = self.secretariat.get(f"/api/v1/meetings/{self.meeting_id}/attendance")
        assert response.status_code == 200, response.text
        state: dict[str, Any] = response.json()
        return state


@pytest.fixture
def chaired(make_client: Callable[[], TestClient[Litestar]], demo_seed: DemoSeed) -> Chaired:
    """Our chair, named and checked in."""
    client = make_client()
    login(client, demo_seed.organizer_email, demo_seed.organizer_password)
    return Chaired(client, demo_seed.upcoming_meeting_id)


def test_export_finds_the_chair_by_phone_or_name(chaired: Chaired, demo_db: str) -> None:
    by_phone = exported(demo_db, "--phone", "+84 912-345-678")
    [assignment] = by_phone["chair_assignments"]
    # Phones are stored normalised (issue 16): the spaces the clerk typed are gone.
    assert assignment["chair_name"] == NAME and assignment["chair_phone"] == "0912345678"
    assert assignment["meeting_id"] == chaired.meeting_id
    assert assignment["point_id"] == chaired.point_id
    [checkin] = by_phone["check_ins"]
    assert (checkin["status"], checkin["delegates_present"]) == ("present", 12)
    assert any(
        e["action"] == "chair" and NAME in json.dumps(e["details"], ensure_ascii=False)
        for e in by_phone["audit_entries"]
    )
    by_name = exported(demo_db, "--name", "trịnh  văn KHẢI")
    assert by_name["chair_assignments"] == by_phone["chair_assignments"]
    nobody = exported(demo_db, "--phone", "0987 000 111")
    assert nobody["chair_assignments"] == nobody["check_ins"] == nobody["accounts"] == []


def test_export_finds_an_account(demo_db: str, demo_seed: DemoSeed) -> None:
    document = exported(demo_db, "--user", demo_seed.chair_email)
    [account] = document["accounts"]
    assert account["email"] == demo_seed.chair_email and account["role"] == "chair"
    assert "password_hash" not in account


def test_a_dry_run_changes_nothing(chaired: Chaired, demo_db: str) -> None:
    before = exported(demo_db, "--phone", PHONE, "--name", NAME)
    result = people(demo_db, "erase", "--phone", PHONE, "--name", NAME, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was changed." in result.output
    assert re.search(r"^\s+1\s+chair assignments", result.output, re.MULTILINE)
    assert "appears in no published article" in result.output
    assert exported(demo_db, "--phone", PHONE, "--name", NAME) == before
    assert chaired.cam_tu()["chair_name"] == NAME


def test_erase_asks_first_and_a_no_changes_nothing(chaired: Chaired, demo_db: str) -> None:
    result = people(demo_db, "erase", "--phone", PHONE, stdin="n\n")
    assert result.exit_code != 0
    assert chaired.cam_tu()["chair_name"] == NAME


def test_erase_removes_the_person_and_keeps_the_numbers(chaired: Chaired, demo_db: str) -> None:
    totals = chaired.attendance()["totals"]
    result = people(demo_db, "erase", "--phone", PHONE, "--name", NAME, stdin="y\n")
    assert result.exit_code == 0, result.output
    assert "Erased." in result.output

    point = chaired.cam_tu()
    assert point["chair_name"] == PLACEHOLDER
    assert point.get("chair_phone") is None and point["chair_title"] is None
    assert chaired.attendance()["totals"] == totals, "the roll call still adds up"
    meeting = chaired.meeting_id
    for path in (
        f"/api/v1/meetings/{meeting}/points",
        f"/api/v1/meetings/{meeting}/attendance",
        f"/api/v1/meetings/{meeting}/attendance.csv",
        f"/api/v1/meetings/{meeting}/audit",
        f"/meetings/{meeting}/points",
        f"/meetings/{meeting}",
    ):
        body = chaired.secretariat.get(path, headers={"Accept": "text/html"}).text
        assert NAME not in body and PHONE not in body, path
    audit = chaired.secretariat.get(f"/api/v1/meetings/{meeting}/audit").json()
    erasures = [e for e in audit["items"] if e["action"] == "personal_data_erased"]
    assert len(erasures) == 1 and erasures[0]["details"]["chair_assignments"] == 1

    after = exported(demo_db, "--phone", PHONE, "--name", NAME)
    assert all(after[key] == [] for key in after if key != "query"), after


def test_erasing_an_account_deletes_it(
    make_client: Callable[[], TestClient[Litestar]], demo_db: str, demo_seed: DemoSeed
) -> None:
    result = people(demo_db, "erase", "--user", demo_seed.chair_email, "--yes")
    assert result.exit_code == 0, result.output
    refused = make_client().post(
        "/api/v1/auth/login",
        json={"email": demo_seed.chair_email, "password": demo_seed.chair_password},
    )
    assert refused.status_code == 401
    assert exported(demo_db, "--user", demo_seed.chair_email)["accounts"] == []


def test_erase_reports_published_articles_and_leaves_them(
    make_client: Callable[[], TestClient[Litestar]], demo_db: str, demo_seed: DemoSeed
) -> None:
    secretariat = make_client()
    login(secretariat, demo_seed.organizer_email, demo_seed.organizer_password)
    meeting = demo_seed.past_meeting_id
    saved = secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": "Đã họp."})
    assert saved.status_code == 200, saved.text
    assert secretariat.post(f"/api/v1/meetings/{meeting}/minutes/publish").status_code == 200
    drafts = secretariat.get("/api/v1/articles", params={"unit": CAM_TU}).json()["items"]
    draft = next(a for a in drafts if a["meeting_id"] == meeting)
    published = secretariat.post(f"/api/v1/articles/{draft['id']}/publish")
    assert published.status_code == 200, published.text
    url = published.json()["url"]
    name = "Phạm Thị Nhàn"  # the demo's Cẩm Tú chair, named in the unit's article
    assert name in secretariat.get(url).text

    result = people(demo_db, "erase", "--name", name, "--yes")
    assert result.exit_code == 0, result.output
    assert "appears in 1 published article(s)" in result.output and url in result.output
    assert name in make_client().get(url).text, "the publication is left for an editor"
    assert exported(demo_db, "--name", name)["chair_assignments"] == []


def test_a_person_needs_an_identifier(demo_db: str) -> None:
    result = people(demo_db, "export")
    assert result.exit_code == 2
    assert "give at least one --phone, --name or --user" in result.output


def test_the_directory_of_contacts_is_exported_and_erased(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed, demo_db: str
) -> None:
    chaired = Chaired(secretariat, demo_seed.upcoming_meeting_id)
    contacts_url = f"/api/v1/points/{chaired.point_id}/contacts"
    entry = {
        "chair_name": NAME,
        "chair_position": "Chủ tịch UBND xã",
        "phones": [PHONE, "0987 000 111"],
        "email": "khai@camtu.thanhhoa.gov.vn",
        "technician_phone": "0912 000 999",
    }
    assert secretariat.put(contacts_url, json=entry).status_code == 200

    document = exported(demo_db, "--phone", "0987000111")
    (found,) = document["directory_entries"]
    assert (found["point_id"], found["as"], found["chair_name"]) == (
        chaired.point_id,
        "chair",
        NAME,
    )
    assert found["phones"] == ["0912345678", "0987000111"]
    assert any(
        NAME in json.dumps(e["details"], ensure_ascii=False)
        for e in document["directory_audit_entries"]
    )
    # The directory's name for the phone reaches the meetings' records too.
    assert document["chair_assignments"]

    erased = people(demo_db, "erase", "--phone", "0987000111", "--yes")
    assert erased.exit_code == 0, erased.output
    after = secretariat.get(contacts_url).json()
    assert (after["chair_name"], after["phones"], after["email"]) == (None, [], None)
    # The technician is another person: their phone stays.
    assert after["technician_phone"] == "0912000999"
    log = secretariat.get(f"/points/{chaired.point_id}/contacts", headers={"Accept": "text/html"})
    assert NAME not in log.text and "0987000111" not in log.text
    assert "đã xoá theo yêu cầu" in log.text


def test_the_person_who_presided_at_check_in_is_found_and_erased(
    chaired: Chaired, demo_db: str
) -> None:
    presiding = "Đỗ Thị Quyên"
    answered = chaired.secretariat.post(
        f"/api/v1/meetings/{chaired.meeting_id}/checkins",
        json={
            "point_id": chaired.point_id,
            "status": "present",
            "delegates_present": 14,
            "presiding_name": presiding,
            "presiding_position": "Phó Chủ tịch UBND xã",
            "idempotency_key": "people-cli-presiding",
        },
    )
    assert answered.status_code == 201, answered.text
    found = exported(demo_db, "--name", presiding)
    assert [c["presiding_name"] for c in found["check_ins"]] == [presiding]
    result = people(demo_db, "erase", "--name", presiding, "--yes")
    assert result.exit_code == 0, result.output
    after = exported(demo_db, "--name", presiding)
    assert after["check_ins"] == [] and after["roll_call_notes"] == []
    assert chaired.attendance()["totals"]["delegates"] >= 14  # the numbers stay
