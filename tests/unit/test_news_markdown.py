"""Markdown goes through markdown-it-py and nh3's allow-list: what is allowed survives, and an
XSS corpus (script, event handlers, javascript: URLs, SVG, broken markup) comes out inert."""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from confhub.core.errors import InvalidInputError
from confhub.news import markdown
from confhub.news.markdown import (
    ALLOWED_TAGS,
    MAX_MARKDOWN_LENGTH,
    TOO_MUCH_FORMATTING,
    escape_markdown,
    render_bounded,
    render_checked,
    render_markdown,
    render_or_plain,
    sanitize,
)

pytestmark = pytest.mark.unit

# Each payload tries to run script or load something; they come back in tests of pages too.
XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<object data=javascript:alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<details open ontoggle=alert(1)>",
    "<a href='x' onmouseover='alert(1)'>hover</a>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<body onload=alert(1)>",
    "<!--<img src=x onerror=alert(1)>-->",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<base href=javascript:alert(1)//>",
    "[a](<javascript:alert(1)>)",
    "`<script>alert(1)</script>`",
    "<img src=x onerror=alert(1)",
]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


def assert_inert(html: str) -> None:
    """No tag outside the allow-list, no event handler, no style, no script URL."""
    parser = _Collect()
    parser.feed(html)
    assert set(parser.tags) <= ALLOWED_TAGS, parser.tags
    for name, value in parser.attrs:
        assert not name.startswith("on"), (name, html)
        assert name in ("href", "title", "rel", "start"), (name, html)
        lowered = (value or "").replace(" ", "").lower()
        assert not lowered.startswith(("javascript:", "vbscript:", "data:")), html


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_corpus_is_inert(payload: str) -> None:
    html = str(render_markdown(payload))
    assert_inert(html)
    assert "<script" not in html.lower()
    assert "<svg" not in html.lower()


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_the_sanitiser_alone_cleans_raw_html(payload: str) -> None:
    assert_inert(sanitize(payload))


def test_allowed_markdown_survives() -> None:
    html = str(
        render_markdown(
            "# Tiêu đề\n\n**đậm** *nghiêng* ~~gạch~~\n\n- một\n- hai\n\n"
            "> trích dẫn\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n[liên kết](https://thanhhoa.gov.vn)"
        )
    )
    assert "<h2>Tiêu đề</h2>" in html  # the page's <h1> is the title
    assert "<strong>đậm</strong>" in html
    assert "<em>nghiêng</em>" in html
    assert "<del>gạch</del>" in html or "<s>gạch</s>" in html
    assert "<li>một</li>" in html
    assert "<blockquote>" in html
    assert "<table>" in html
    assert "style=" not in html  # table alignment would need inline styles
    assert 'href="https://thanhhoa.gov.vn"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_raw_html_becomes_its_text_and_is_reported() -> None:
    rendered = render_checked("Gõ <b>đậm</b> bằng <span class=x>HTML</span>", "markdown")
    assert str(rendered.html) == "<p>Gõ đậm bằng HTML</p>\n"
    assert rendered.raw_html_tags == ("b", "span")


def test_raw_script_and_style_lose_their_content() -> None:
    text = "Trước <script>alert(1)</script> sau\n\n<style>p{color:red}</style>\n\nCuối"
    rendered = render_checked(text, "markdown")
    assert "alert" not in rendered.html and "color" not in rendered.html
    assert "Trước" in rendered.html and "sau" in rendered.html and "Cuối" in rendered.html
    assert rendered.raw_html_tags == ("script", "style")


@pytest.mark.parametrize(
    "text",
    [
        "<div>\nKhối HTML\n</div>",
        "<table><tr><td>Ô</td></tr></table>",
        "<!-- ghi chú --> chữ",
        "<img src=x onerror=alert(1)",
        "\\<b>đậm\\</b>",
        "<o:p></o:p>Văn bản Word",
    ],
)
def test_no_literal_tag_text_reaches_a_reader(text: str) -> None:
    rendered = render_checked(text, "markdown")
    # nh3 escapes a text "<" as &lt;: none may be followed by a tag's name.
    assert not re.search(r"&lt;/?[a-z!]", str(rendered.html), re.IGNORECASE), rendered.html
    assert rendered.raw_html_tags


def test_markdown_without_html_reports_nothing() -> None:
    rendered = render_checked("**a** < b, `<b>` trong mã", "markdown")
    assert rendered.raw_html_tags == ()
    assert "<code>&lt;b&gt;</code>" in rendered.html  # code shows what it quotes


def test_mail_and_phone_links_are_allowed() -> None:
    html = str(render_markdown("[thư](mailto:vp@thanhhoa.gov.vn) [gọi](tel:+842373852)"))
    assert 'href="mailto:vp@thanhhoa.gov.vn"' in html
    assert 'href="tel:+842373852"' in html


# Pieces of Markdown syntax; random sequences of them exercise every inline rule and its edges.
_PIECES = (
    "a", "b c", " ", "  ", "\n", "\n\n", "[", "]", "(", ")", "](", "![", "*", "**", "_", "__",
    "`", "``", "~~", "<", ">", "&", "&amp;", "&#39;", "&#x", ";", "\\", "|", "- ", "1. ", "# ",
    "> ", ":", "%", "-", "+", "=", "@", "^", "{", "}", "$", "#", "!", '"', "'", "http://a.vn",
    "<https://b.vn>", "mailto:c@d.vn", "www.e.vn", "[x]: /u", "\n---\n", "\n| a | b |\n| - | - |\n",
    "    ", "\t", "đ", "Ầ",
)  # fmt: skip


@pytest.mark.slow  # thousands of cases: `make test` runs it, `make check` does not
def test_fewer_inline_terminators_render_the_same_html() -> None:
    """confhub's parser stops its text rule at fewer characters than markdown-it's default (the
    ones that start no enabled rule): random Markdown renders exactly as with the default."""
    reference = MarkdownIt("commonmark", {"html": True, "typographer": False})
    reference.enable(["table", "strikethrough"])
    reference.core.ruler.push("strip_raw_html", markdown._strip_raw_html)
    reference.core.ruler.push("shift_headings", markdown._shift_headings)
    rng = random.Random(14)
    for _ in range(4_000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 30)))
        assert markdown._parser().render(text) == reference.render(text), repr(text)


@pytest.mark.parametrize(
    "unit", ["[", "![", "*[", "[a](", "**a", "`a ", "<a", "&", "\\*", "- " * 9 + "a\n", "|"]
)
def test_a_text_needing_too_much_work_is_refused(unit: str) -> None:
    text = unit * (MAX_MARKDOWN_LENGTH // len(unit))
    with pytest.raises(InvalidInputError) as refused:
        render_bounded(text, "body")
    assert refused.value.field == "body"
    assert refused.value.extra == [{"key": "body", "message": TOO_MUCH_FORMATTING}]


def test_a_bounded_render_is_the_unbounded_one() -> None:
    text = "\n\n".join(XSS_CORPUS) + "\n\n# Tiêu đề\n\n| a | b |\n| - | - |\n| 1 | 2 |"
    assert render_bounded(text, "body") == render_markdown(text)


def test_a_header_too_large_to_render_is_shown_as_text() -> None:
    header = "**Điểm cầu vắng (lý do):** " + "; ".join(
        f"Xã {n} – {escape_markdown('<b>*' * 500)}" for n in range(30)
    )
    html = str(render_or_plain(header))
    assert html.startswith("<pre>**Điểm cầu vắng (lý do):** Xã 0 – \\&lt;b\\&gt;\\*")
    assert "<b>" not in html
    assert str(render_or_plain("**Có mặt**")) == "<p><strong>Có mặt</strong></p>\n"
