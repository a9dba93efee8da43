"""The minutes as an official document (biên bản, Decree 30/2020/NĐ-CP): the DOCX opens with
python-docx and holds the roll call's rows; the PDF becomes PNG pages with pdftoppm and its text
(pdftotext) has the title, the date in Vietnamese form and every present point's name with its
diacritics; 404 without minutes; the same access as the minutes page.

The demo's 10 Sept meeting: 156 points present, 6 absent, 4 not answered.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import nsmap, qn
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from confhub.demo import DemoSeed
from confhub.news import documents
from confhub.news.document_docx import PARAGRAPH_PROPERTIES
from tests.conftest import skip_or_fail
from tests.e2e.conftest import ARTIFACTS
from tests.integration.news.conftest import HTML, MINUTES

pytestmark = pytest.mark.integration

TITLE = (
    "Hội nghị trực tuyến đánh giá hoạt động chính quyền địa phương 2 cấp và công tác khắc phục "
    "hậu quả do bão số 5 gây ra"
)
NS_W = nsmap["w"]
TEXT = MINUTES + "\n| Nội dung | Phụ trách |\n| --- | --- |\n| Khắc phục bão số 5 | UBND xã |\n"


def _roll_call(client: TestClient[Litestar], meeting: int) -> dict[str, list[dict]]:
    """The meeting's points by roll-call status, each with the name the document gives it."""
    units = client.get("/api/v1/units", params={"province": 38, "limit": 500}).json()["items"]
    names = {u["code"]: u["name"] for u in units}
    points = client.get(f"/api/v1/meetings/{meeting}/attendance").json()["points"]
    grouped: dict[str, list[dict]] = {"present": [], "absent": [], "pending": []}
    for point in points:
        shown = names.get(point["unit_code"], point["name"])
        grouped[point["status"]].append({**point, "shown": shown})
    return grouped


def _text(lines: str) -> str:
    return " ".join(unicodedata.normalize("NFC", lines).split())


def test_no_document_while_the_meeting_has_no_minutes(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    for fmt in ("docx", "pdf"):
        answer = secretariat.get(f"/api/v1/meetings/{demo_seed.past_meeting_id}/minutes.{fmt}")
        assert answer.status_code == 404, fmt
        assert answer.json()["detail"] == "This meeting has no minutes yet"
    page = secretariat.get(f"/meetings/{demo_seed.past_meeting_id}/minutes", headers=HTML).text
    assert "minutes.pdf" not in page  # no download link either


def test_only_those_who_manage_the_meeting_download_it(
    secretariat: TestClient[Litestar],
    cam_tu_chair: TestClient[Litestar],
    make_client: Callable[[], TestClient[Litestar]],
    demo_seed: DemoSeed,
) -> None:
    meeting = demo_seed.past_meeting_id
    secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": TEXT})
    anonymous = make_client()
    for fmt in ("docx", "pdf"):
        url = f"/api/v1/meetings/{meeting}/minutes.{fmt}"
        assert anonymous.get(url).status_code == 401, fmt
        assert cam_tu_chair.get(url).status_code == 403, fmt
        assert cam_tu_chair.get(f"/meetings/{meeting}/minutes", headers=HTML).status_code == 403
    assert secretariat.get(f"/api/v1/meetings/{meeting + 1000}/minutes.docx").status_code == 404


def test_the_docx_holds_the_header_and_the_roll_call(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": TEXT})
    answer = secretariat.get(f"/api/v1/meetings/{meeting}/minutes.docx")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f'filename="bien-ban-hoi-nghi-{meeting}.docx"' in answer.headers["content-disposition"]
    document = docx.Document(io.BytesIO(answer.content))
    heading = document.tables[0]
    assert heading.cell(0, 0).text.strip() == "THƯỜNG TRỰC TỈNH ỦY THANH HÓA"
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in heading.cell(0, 1).text
    assert "Độc lập - Tự do - Hạnh phúc" in heading.cell(0, 1).text
    assert heading.cell(1, 0).text == "Số: …/BB-TU"
    assert heading.cell(1, 1).text == "Thanh Hóa, ngày 10 tháng 9 năm 2025"
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[:2] == ["BIÊN BẢN", TITLE]
    assert "Thời gian bắt đầu: 14 giờ 00 phút, ngày 10 tháng 9 năm 2025" in paragraphs
    assert "Đồng chí Bí thư Tỉnh ủy kết luận hội nghị." in " ".join(paragraphs)  # the content
    content = document.tables[1]  # the minutes' own Markdown table
    assert [c.text for c in content.rows[1].cells] == ["Khắc phục bão số 5", "UBND xã"]

    expected = _roll_call(secretariat, meeting)
    present, absent, pending = document.tables[2:5]
    assert [c.text for c in present.rows[0].cells] == [
        "STT", "Điểm cầu", "Người chủ trì tại điểm cầu", "Số đại biểu"
    ]  # fmt: skip
    rows = [[c.text for c in row.cells] for row in present.rows[1:]]
    assert len(rows) == len(expected["present"]) == 156
    assert sorted(r[1] for r in rows) == sorted(p["shown"] for p in expected["present"])
    by_name = {p["shown"]: p for p in expected["present"]}
    assert [r[0] for r in rows] == [str(n) for n in range(1, 157)]
    for _number, name, presiding, delegates in rows:
        point = by_name[name]
        assert delegates == str(point["delegates_present"])
        assert presiding.startswith(point["chair"]), (presiding, point)
    assert [r[1:] for r in rows if r[1] == "Xã Cẩm Tú"] == [
        ["Xã Cẩm Tú", "Phạm Thị Nhàn – Bí thư Đảng uỷ, Chủ tịch HĐND xã", "32"]
    ]
    absent_rows = [[c.text for c in row.cells] for row in absent.rows[1:]]
    assert sorted((r[1], r[2]) for r in absent_rows) == sorted(
        (p["shown"], p["reason"] or "") for p in expected["absent"]
    )
    assert sorted(r[1] for r in [[c.text for c in row.cells] for row in pending.rows[1:]]) == (
        sorted(p["shown"] for p in expected["pending"])
    )
    # Word refuses a paragraph whose properties are out of the schema's order (LibreOffice and
    # python-docx would not mind): every <w:pPr> keeps it.
    order = PARAGRAPH_PROPERTIES
    for properties in document.element.body.iter(qn("w:pPr")):
        tags = [order.index(child.tag.replace(f"{{{NS_W}}}", "w:")) for child in properties]
        assert tags == sorted(tags), [child.tag for child in properties]
    signatures = document.tables[-1]
    assert signatures.cell(0, 0).text.startswith("THƯ KÝ")
    assert signatures.cell(0, 1).text.startswith("CHỦ TỌA")
    assert signatures.cell(0, 1).text.endswith("Nguyễn Doãn Anh")


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        skip_or_fail(f"{tool} is not installed (apt-get install -y poppler-utils)")
    assert found is not None
    return found


def test_the_pdf_has_its_title_date_and_present_points_with_diacritics(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed, tmp_path: Path
) -> None:
    meeting = demo_seed.past_meeting_id
    secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": TEXT})
    answer = secretariat.get(f"/api/v1/meetings/{meeting}/minutes.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "bien-ban.pdf"
    pdf.write_bytes(answer.content)

    fonts = subprocess.run(
        [_poppler("pdffonts"), str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    families = [line.split()[0] for line in fonts.splitlines()[2:]]
    assert families and all("Noto-Serif" in f for f in families), fonts
    assert all(line.split()[-5:-3] == ["yes", "yes"] for line in fonts.splitlines()[2:]), fonts

    text = _text(
        subprocess.run(
            [_poppler("pdftotext"), "-enc", "UTF-8", str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert "BIÊN BẢN" in text
    assert TITLE in text
    assert "Thanh Hóa, ngày 10 tháng 9 năm 2025" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    present = _roll_call(secretariat, meeting)["present"]
    missing = [p["shown"] for p in present if p["shown"] not in text]
    assert missing == [], missing
    assert "Xã Cẩm Tú" in text and "Phạm Thị Nhàn" in text

    subprocess.run(
        [_poppler("pdftoppm"), "-r", "60", "-png", str(pdf), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    kept = ARTIFACTS / "minutes-document"  # for a person to look at (CI keeps this folder)
    kept.mkdir(parents=True, exist_ok=True)
    for page in [pdf, *pages]:
        shutil.copy(page, kept / page.name)
    with Image.open(pages[0]) as first:
        assert first.size[0] < first.size[1]  # A4 upright
        darkest, _ = first.convert("L").getextrema()
        assert darkest < 64  # printed, not blank


def test_the_minutes_page_links_both_files(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed
) -> None:
    meeting = demo_seed.past_meeting_id
    secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": TEXT})
    page = secretariat.get(f"/meetings/{meeting}/minutes", headers=HTML).text
    assert f'href="/api/v1/meetings/{meeting}/minutes.docx"' in page
    assert f'href="/api/v1/meetings/{meeting}/minutes.pdf"' in page
    assert "Tải bản PDF" in page


def test_a_process_busy_with_documents_says_when_to_retry(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting = demo_seed.past_meeting_id
    secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": TEXT})
    # As if one render ran and MAX_WAITING more waited for the documents' thread (and no file
    # were kept from an earlier test).
    monkeypatch.setattr(documents, "_recent", documents._Recent())
    monkeypatch.setattr(documents._queue, "in_flight", documents.MAX_WAITING + 1)
    answer = secretariat.get(f"/api/v1/meetings/{meeting}/minutes.pdf")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == str(documents.RETRY_AFTER_SECONDS)
    monkeypatch.setattr(documents._queue, "in_flight", documents.MAX_WAITING)
    assert secretariat.get(f"/api/v1/meetings/{meeting}/minutes.docx").status_code == 200


def test_a_file_asked_for_again_is_the_same_until_the_minutes_change(
    secretariat: TestClient[Litestar], demo_seed: DemoSeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting = demo_seed.past_meeting_id
    monkeypatch.setattr(documents, "_recent", documents._Recent())
    secretariat.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": TEXT})
    first = secretariat.get(f"/api/v1/meetings/{meeting}/minutes.docx")
    # Kept: asked for again while the process is too busy to render, it still comes.
    monkeypatch.setattr(documents._queue, "in_flight", documents.MAX_WAITING + 1)
    again = secretariat.get(f"/api/v1/meetings/{meeting}/minutes.docx")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    monkeypatch.setattr(documents._queue, "in_flight", 0)
    secretariat.put(
        f"/api/v1/meetings/{meeting}/minutes",
        json={"markdown": TEXT + "\nHội nghị bế mạc lúc 17 giờ.\n"},
    )
    changed = secretariat.get(f"/api/v1/meetings/{meeting}/minutes.docx")
    assert changed.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(changed.content)).paragraphs)
    assert "Hội nghị bế mạc lúc 17 giờ." in text
