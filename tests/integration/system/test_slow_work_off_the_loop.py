"""Slow work never holds up a process: while a password is checked (argon2, ~130 ms of CPU), a
national attendance spreadsheet is written (~0.4 s), a chair sheet is read (~0.2 s) or a
national sheet of QR codes is drawn (~14 s), the process keeps answering everyone
else — the live sockets of a roll call included.

Each test holds the slow step until the test has been answered by another request. Run on
the event loop, the slow step would block that request, give up waiting after its timeout,
and the test fails.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from openpyxl import Workbook

from confhub.accounts import passwords
from confhub.attendance import report
from confhub.demo import DemoSeed
from confhub.meetings import chair_import, qr
from confhub.meetings.pages import sheets

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Held:
    """A slow function that, once called, waits for the test's go before doing its work."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.entered = threading.Event()
        self.go = threading.Event()
        self.released_in_time: list[bool] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        # Once a call has given up waiting, the rest go straight on, so a failing test ends
        # instead of waiting again for every call of a loop.
        patience = 0 if False in self.released_in_time else 10
        self.released_in_time.append(self.go.wait(timeout=patience))
        return self.function(*args, **kwargs)


def answered_meanwhile(
    client: TestClient[Litestar], held: Held, slow_request: Callable[[], httpx.Response]
) -> httpx.Response:
    """Send `slow_request` in the background; once it reaches the held step, another request
    must be answered before the step is let go. Returns the slow request's response."""
    with ThreadPoolExecutor(max_workers=1) as background:
        slow = background.submit(slow_request)
        assert held.entered.wait(timeout=10), "the request never reached the slow step"
        assert client.get("/healthz").status_code == 200
        held.go.set()
        response = slow.result(timeout=30)
    assert all(held.released_in_time), "the other request waited for the slow step"
    return response


def test_a_sign_in_being_checked(
    client: TestClient[Litestar], demo_seed: DemoSeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = Held(passwords._verify)
    monkeypatch.setattr(passwords, "_verify", held)
    credentials = {"email": demo_seed.organizer_email, "password": demo_seed.organizer_password}
    response = answered_meanwhile(
        client, held, lambda: client.post("/api/v1/auth/login", json=credentials)
    )
    assert response.status_code == 200, response.text


def test_an_attendance_spreadsheet_being_written(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = Held(report.to_xlsx)
    monkeypatch.setattr(report, "to_xlsx", held)
    url = f"/api/v1/meetings/{demo_seed.upcoming_meeting_id}/attendance.xlsx"
    response = answered_meanwhile(secretariat, held, lambda: secretariat.get(url))
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"PK")  # a real XLSX (zip) file


def test_a_chair_sheet_being_read(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = Held(chair_import.parse_sheet)
    monkeypatch.setattr(chair_import, "parse_sheet", held)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Tên xã, phường", "Họ và tên", "Chức vụ"])
    sheet.append(["Cẩm Tú", "Phạm Thị Nhàn", "Bí thư Đảng uỷ xã"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    url = f"/api/v1/meetings/{demo_seed.upcoming_meeting_id}/chairs/import?dry_run=true"
    files = {"data": ("chu-tri.xlsx", buffer.getvalue(), XLSX)}
    response = answered_meanwhile(secretariat, held, lambda: secretariat.post(url, files=files))
    assert response.status_code == 200, response.text
    assert "Phạm Thị Nhàn" in response.text


def test_a_sheet_of_qr_codes_being_drawn(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheets._qr_svg.cache_clear()  # codes drawn by earlier tests would not be drawn again
    held = Held(qr.qr_svg)
    monkeypatch.setattr(qr, "qr_svg", held)
    url = f"/meetings/{demo_seed.upcoming_meeting_id}/qr-sheet"
    response = answered_meanwhile(secretariat, held, lambda: secretariat.get(url))
    assert response.status_code == 200, response.text
    assert response.text.count("<svg") >= 2  # every invited point's code, drawn
