"""An XSS corpus and the check that a whole page keeps it inert."""

from __future__ import annotations

from html.parser import HTMLParser

from tests.unit.test_news_markdown import XSS_CORPUS

# One text with every payload, for places that take a paragraph (the minutes, an article body).
XSS_TEXT = "\n\n".join(XSS_CORPUS)
# One-line payloads for titles, leads and captions.
XSS_LINE = (
    '<script>alert("title")</script><img src=x onerror=alert(2)>'
    '<svg onload=alert(3)>"><a href="javascript:alert(4)">x</a>'
)
ALLOWED_SCRIPT_SOURCES = ("/static/js/",)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            src = values.get("src") or ""
            if not src.startswith(ALLOWED_SCRIPT_SOURCES):
                self.problems.append(f"a script that is not ours: {attrs}")
        if tag in ("svg", "iframe", "object", "embed", "base", "math"):
            self.problems.append(f"<{tag}> reached the page")
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            self.problems.append("a meta refresh reached the page")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"an event handler reached the page: {name}={value}")
            if name == "style":
                self.problems.append(f"an inline style reached the page: {value}")
            if tag == "link" and values.get("rel") == "icon" and value == "data:,":
                continue  # base.html's empty favicon, not user text
            if name in ("href", "src", "action", "formaction", "data") and value:
                lowered = "".join(value.split()).lower()
                if lowered.startswith(("javascript:", "vbscript:", "data:")):
                    self.problems.append(f"a script URL reached the page: {name}={value}")


def page_problems(html: str) -> list[str]:
    """Whatever in `html` could run script (empty for an inert page)."""
    parser = _Page()
    parser.feed(html)
    return parser.problems
