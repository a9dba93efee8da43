"""QR codes of check-in links: safe to inline (no script, no inline style), deterministic."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from confhub.meetings import qr
from confhub.settings import Settings

pytestmark = pytest.mark.unit

SVG_NS = "{http://www.w3.org/2000/svg}"
TOKEN = "q3Xz-9_AbCdEfGhIjKlMnO"  # the shape of secrets.token_urlsafe(16)


def settings(base_url: str = "https://hoinghi.thanhhoa.gov.vn") -> Settings:
    return Settings(database_url="sqlite+aiosqlite:///unused.sqlite3", base_url=base_url)


def test_checkin_url_is_base_url_slash_checkin_slash_token() -> None:
    assert qr.checkin_url(settings(), TOKEN) == f"https://hoinghi.thanhhoa.gov.vn/checkin/{TOKEN}"
    assert qr.checkin_url(settings("http://127.0.0.1:8000"), "abc") == (
        "http://127.0.0.1:8000/checkin/abc"
    )


def assert_safe(svg: str) -> ET.Element:
    lowered = svg.lower()
    assert "<script" not in lowered
    assert "style=" not in lowered
    assert "<style" not in lowered
    assert "javascript:" not in lowered
    root = ET.fromstring(svg)
    assert root.tag in ("svg", f"{SVG_NS}svg")
    for element in root.iter():
        assert not element.tag.endswith(("script", "style", "foreignObject"))
        assert "style" not in element.attrib
        assert not any(name.lower().startswith("on") for name in element.attrib)
    return root


def test_inline_svg_parses_has_no_declaration_and_no_script_or_style() -> None:
    svg = qr.qr_svg(qr.checkin_url(settings(), TOKEN))
    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    root = assert_safe(svg)
    assert root.get("class") == "qr"
    paths = [e for e in root.iter() if e.tag.endswith("path")]
    assert paths
    assert all(p.get("class") == "qr" for p in paths)


def test_inline_svg_is_deterministic_and_depends_on_the_data() -> None:
    url = qr.checkin_url(settings(), TOKEN)
    assert qr.qr_svg(url) == qr.qr_svg(url)
    assert qr.qr_svg(url) != qr.qr_svg(url + "x")


def test_scale_sets_the_size() -> None:
    url = qr.checkin_url(settings(), TOKEN)
    small = ET.fromstring(qr.qr_svg(url, scale=2))
    large = ET.fromstring(qr.qr_svg(url, scale=6))
    assert int(large.get("width") or 0) == 3 * int(small.get("width") or 0)
    with pytest.raises(ValueError, match="scale"):
        qr.qr_svg(url, scale=0)


def test_short_data_is_still_a_full_qr_code_not_micro_qr() -> None:
    # A micro QR code is at most 17 modules + quiet zone; phone cameras often ignore those.
    root = ET.fromstring(qr.qr_svg("abc", scale=1))
    assert int(root.get("width") or 0) >= 21 + 2 * 4


def test_document_is_a_standalone_svg_file() -> None:
    data = qr.qr_svg_document(qr.checkin_url(settings(), TOKEN))
    assert isinstance(data, bytes)
    assert data.startswith(b"<?xml")
    root = assert_safe(data.decode("utf-8"))
    assert root.tag == f"{SVG_NS}svg"
    assert data == qr.qr_svg_document(qr.checkin_url(settings(), TOKEN))
