"""The minutes editor in Debian's Chromium: HTML pasted from Word becomes clean Markdown (headings,
bold, lists, a table, a link; its script and Office markup dropped) and stays inert and free of
literal tags on every public page; raw HTML typed into the text is flagged beside the preview
before anything is published; the toolbar works on a 390 px phone. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from confhub.demo import DemoSeed
from tests.e2e.conftest import LiveServer
from tests.e2e.test_news_browser import DESKTOP, PHONE, api_client, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CAM_TU = 15148
# What Word 2016 puts on the clipboard for a heading, a paragraph with bold and italic, a
# two-item bulleted list, a table and a link (abridged), with a script and an image whose
# onerror would run if anything evaluated the pasted HTML.
WORD_HTML = """<html xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:w="urn:schemas-microsoft-com:office:word"><head><meta charset="utf-8">
<style><!-- p.MsoNormal {mso-style-parent:""; font-family:"Times New Roman"} --></style></head>
<body lang=VI style='tab-interval:36.0pt'><!--StartFragment-->
<h1 style='mso-margin-top-alt:auto'><span lang=VI>Kết luận hội nghị<o:p></o:p></span></h1>
<p class=MsoNormal>Đồng chí Bí thư Tỉnh ủy <b style='mso-bidi-font-weight:normal'>nhấn
mạnh</b> ba nội dung <i>trọng tâm</i>:<o:p></o:p></p>
<p class=MsoListParagraphCxSpFirst style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'>
<![if !supportLists]><span style='font-family:Symbol'><span style='mso-list:Ignore'>·<span
style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp; </span></span></span><![endif]>Khắc
phục hậu quả bão số 5;<o:p></o:p></p>
<p class=MsoListParagraphCxSpLast style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'>
<![if !supportLists]><span style='mso-list:Ignore'>·<span>&nbsp; </span></span><![endif]>Ổn
định đời sống nhân dân.<o:p></o:p></p>
<script>window.__pasted = "script ran"</script>
<table class=MsoTableGrid border=1 cellspacing=0
style='border-collapse:collapse;mso-yfti-tbllook:1184'>
<tr style='mso-yfti-irow:0'><td width=200 style='border:solid windowtext 1.0pt'><p class=MsoNormal>
<b>Điểm cầu<o:p></o:p></b></p></td><td><p class=MsoNormal><b>Số đại biểu</b></p></td></tr>
<tr><td><p class=MsoNormal>Xã Cẩm Tú</p></td><td><p class=MsoNormal>32</p></td></tr>
</table>
<p class=MsoNormal><img src="x" onerror="window.__pasted = 'image ran'">Xem thêm tại <a
href="https://thanhhoa.gov.vn/">Cổng thông tin</a>.<o:p>&nbsp;</o:p></p>
<!--EndFragment--></body></html>"""
EXPECTED = (
    "# Kết luận hội nghị\n\n"
    "Đồng chí Bí thư Tỉnh ủy **nhấn mạnh** ba nội dung *trọng tâm*:\n\n"
    "- Khắc phục hậu quả bão số 5;\n"
    "- Ổn định đời sống nhân dân.\n\n"
    "| Điểm cầu | Số đại biểu |\n"
    "| --- | --- |\n"
    "| Xã Cẩm Tú | 32 |\n\n"
    "Xem thêm tại [Cổng thông tin](https://thanhhoa.gov.vn/)."
)
# Chromium's own paste would hand the page the clipboard's HTML; a test cannot put unsanitised
# HTML on the system clipboard, so it sends the same paste event a real paste does.
PASTE = """(html) => {
  const textarea = document.getElementById("markdown");
  textarea.focus();
  textarea.select();
  const data = new DataTransfer();
  data.setData("text/html", html);
  data.setData("text/plain", "plain text");
  textarea.dispatchEvent(
    new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true })
  );
  return textarea.value;
}"""
LITERAL_TAG = re.compile(r"</?(?:[a-z][a-z0-9:-]*|!--)", re.IGNORECASE)


def _literal_tags(page: Any) -> list[str]:
    """Tag-like text a reader sees on the page (its rendered text, not its markup)."""
    return LITERAL_TAG.findall(page.inner_text("body"))


def test_word_paste_becomes_clean_markdown_and_stays_inert_in_public(
    live_server: LiveServer, browser: Any, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    meeting = demo_seed.past_meeting_id
    dialogs: list[str] = []
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    page.goto(f"{live_server.url}/meetings/{meeting}/minutes")
    page.wait_for_selector(".md-toolbar:not([hidden])")  # the editor's module has run

    assert page.evaluate(PASTE, WORD_HTML) == EXPECTED
    page.wait_for_selector("#minutes-preview table td:text('Xã Cẩm Tú')")
    assert page.inner_text("#minutes-preview h2") == "Kết luận hội nghị"
    assert page.inner_text("#minutes-preview strong") == "nhấn mạnh"
    assert page.is_hidden("#minutes-raw-html")  # clean Markdown: nothing to flag
    assert page.evaluate("window.__pasted") is None
    page.screenshot(path=str(screenshot_dir / "minutes-pasted-desktop.png"), full_page=True)
    page.click("text=Lưu phiên bản mới")
    page.wait_for_selector("text=Đã lưu biên bản thành một phiên bản mới.")
    # The minutes as an official document: the page's link downloads the PDF.
    with page.expect_download() as downloading:
        page.click("a[href$='/minutes.pdf']")
    download = downloading.value
    assert download.suggested_filename == f"bien-ban-hoi-nghi-{meeting}.pdf"
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
    page.screenshot(path=str(screenshot_dir / "minutes-saved-desktop.png"))
    page.click("text=Đăng thành tin bài")
    page.wait_for_selector("text=đã viết 160 bản nháp")  # present and not answered
    context.close()

    organizer = api_client(live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    province = organizer.get("/api/v1/articles", params={"meeting": meeting, "province": 38})
    province_url = next(a["url"] for a in province.json()["items"] if a["unit_code"] is None)
    chair = api_client(live_server, demo_seed.chair_email, demo_seed.chair_password)
    draft = chair.get("/api/v1/articles", params={"unit": CAM_TU}).json()["items"][0]
    cam_tu = chair.post(f"/api/v1/articles/{draft['id']}/publish").json()

    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        visitor = browser.new_context(viewport=viewport, locale="vi-VN")
        page = visitor.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        for path in (province_url, cam_tu["url"], "/news", f"/units/{CAM_TU}/news"):
            page.goto(f"{live_server.url}{path}")
            assert _literal_tags(page) == [], path
            assert page.evaluate("window.__pasted") is None, path
        page.goto(f"{live_server.url}{province_url}")
        assert page.inner_text(".article-body h2") == "Kết luận hội nghị"
        assert page.locator(".article-body table td").first.inner_text() == "Xã Cẩm Tú"
        page.screenshot(path=str(screenshot_dir / f"pasted-article-{name}.png"), full_page=True)
        visitor.close()
    assert dialogs == []


def test_the_preview_flags_raw_html_before_publishing(
    live_server: LiveServer, browser: Any, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    sign_in(page, live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    page.goto(f"{live_server.url}/meetings/{demo_seed.past_meeting_id}/minutes")
    page.fill("#markdown", 'Chữ <b>đậm</b>, <span style="color:red">màu</span><script>x()</script>')
    page.wait_for_selector("#minutes-raw-html:not([hidden])")
    warning = page.inner_text("#minutes-raw-html")
    assert "<b>, <script>, <span>" in warning
    assert "không hiển thị với người đọc" in warning
    assert page.inner_text("#minutes-preview") == "Chữ đậm, màu"
    page.screenshot(path=str(screenshot_dir / "raw-html-flagged-desktop.png"), full_page=True)
    page.fill("#markdown", "Chữ **đậm**")
    page.wait_for_selector("#minutes-preview strong")
    assert page.is_hidden("#minutes-raw-html")
    context.close()


def test_the_toolbar_on_a_phone(
    live_server: LiveServer, browser: Any, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    organizer = api_client(live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    meeting = demo_seed.past_meeting_id
    organizer.put(f"/api/v1/meetings/{meeting}/minutes", json={"markdown": "Nội dung."})
    assert organizer.post(f"/api/v1/meetings/{meeting}/minutes/publish").status_code == 200
    chair = api_client(live_server, demo_seed.chair_email, demo_seed.chair_password)
    draft = chair.get("/api/v1/articles", params={"unit": CAM_TU}).json()["items"][0]

    context = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True)
    page = context.new_page()
    sign_in(page, live_server, demo_seed.chair_email, demo_seed.chair_password)
    page.goto(f"{live_server.url}/articles/{draft['id']}/edit")
    toolbar = page.locator(".md-toolbar")
    toolbar.wait_for()
    box = toolbar.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    select = "([a, b]) => document.getElementById('body').setSelectionRange(a, b)"
    page.fill("#body", "Ý kiến thảo luận, xem ")
    page.evaluate(select, [0, 6])
    page.tap("button[data-md=bold]")
    assert page.input_value("#body") == "**Ý kiến** thảo luận, xem "
    page.keyboard.press("Control+z")  # the browser's own undo knows the toolbar's edits
    assert page.input_value("#body") == "Ý kiến thảo luận, xem "
    page.evaluate(select, [0, 6])
    page.tap("button[data-md=bold]")
    page.evaluate(select, [26, 26])
    page.tap("button[data-md=link]")  # its address selected, ready to be typed over
    page.keyboard.type("https://thanhhoa.gov.vn")
    page.tap("button[data-md=heading]")
    page.tap("button[data-md=table]")  # its first header cell selected
    page.keyboard.type("Xã")
    assert page.input_value("#body") == (
        "## **Ý kiến** thảo luận, xem [chữ liên kết](https://thanhhoa.gov.vn)\n\n"
        "| Xã | Cột 2 | Cột 3 |\n| --- | --- | --- |\n|  |  |  |\n"
    )
    page.wait_for_selector("#article-preview table th:text('Xã')")
    assert page.inner_text("#article-preview h3") == "Ý kiến thảo luận, xem chữ liên kết"
    page.screenshot(path=str(screenshot_dir / "toolbar-phone.png"), full_page=True)
    context.close()


def test_the_speaking_record_goes_into_the_minutes_from_the_toolbar(
    live_server: LiveServer, browser: Any, demo_seed: DemoSeed, screenshot_dir: Path
) -> None:
    organizer = api_client(live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    meeting = demo_seed.upcoming_meeting_id
    points = organizer.get(f"/api/v1/meetings/{meeting}/points", params={"limit": 500}).json()
    cam_tu = next(p for p in points["items"] if p["unit_code"] == CAM_TU)
    other = next(p for p in points["items"] if p["unit_code"] != CAM_TU)
    # Two points ask to speak (a topic with Markdown's marks in it), both get the floor; the
    # first has finished, the second still speaks.
    for n, (point, topic) in enumerate(
        ((cam_tu, "Đê | kè *khẩn cấp* &_1"), (other, "Giải ngân vốn đầu tư công"))
    ):
        token = point["checkin_url"].rsplit("/", 1)[-1]
        asked = organizer.post(
            f"/api/v1/meetings/{meeting}/speaking",
            json={"request_id": f"rec-{n}", "topic": topic, "minutes": 3},
            headers={"X-Checkin-Token": token},
        )
        assert asked.status_code == 201, asked.text
        url = f"/api/v1/meetings/{meeting}/speaking/rec-{n}"
        assert organizer.patch(url, json={"state": "speaking"}).status_code == 200
        if n == 0:
            assert organizer.patch(url, json={"state": "done"}).status_code == 200

    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    sign_in(page, live_server, demo_seed.organizer_email, demo_seed.organizer_password)
    # A meeting where nobody spoke offers the button disabled, saying why.
    page.goto(f"{live_server.url}/meetings/{demo_seed.past_meeting_id}/minutes")
    nobody = page.locator("button[data-md=block]")
    assert nobody.is_disabled()
    assert nobody.get_attribute("title") == "Hội nghị chưa có ai được mời phát biểu"

    page.goto(f"{live_server.url}/meetings/{meeting}/minutes")
    page.fill("#markdown", "Hội nghị nghe các điểm cầu phát biểu.")
    button = page.get_by_role("button", name="Danh sách phát biểu")
    button.click()
    text = page.input_value("#markdown")
    lines = text.split("\n")
    assert lines[:3] == [
        "Hội nghị nghe các điểm cầu phát biểu.",
        "",
        "| STT | Người phát biểu | Điểm cầu | Nội dung phát biểu | Bắt đầu | Thời lượng |",
    ]
    assert lines[4].startswith("| 1 | ")
    assert r"Đê \| kè \*khẩn cấp\* \&\_1" in lines[4] and " phút " in lines[4]
    assert lines[5].startswith("| 2 |") and lines[5].endswith("| đang phát biểu |")
    # The preview shows the table, each topic as typed: nothing became a tag or emphasis.
    preview = page.locator("#minutes-preview table")
    preview.wait_for()
    cells = preview.locator("tbody tr").first.locator("td")
    assert cells.nth(3).inner_text() == "Đê | kè *khẩn cấp* &_1"
    assert cells.nth(2).inner_text() == cam_tu["point_name"]
    assert page.is_hidden("#minutes-raw-html")
    page.screenshot(path=str(screenshot_dir / "minutes-speaking-record.png"), full_page=True)
    page.keyboard.press("Control+z")  # the browser's own undo takes it out again
    assert page.input_value("#markdown") == "Hội nghị nghe các điểm cầu phát biểu."
    context.close()
