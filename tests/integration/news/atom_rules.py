"""The rules of the Atom 1.0 schema (RFC 4287's RELAX NG, appendix B) that a test can check
without a schema validator: namespaces, required and single elements, dates, ids, links, text
constructs and content. Returns the broken rules; an empty list is a valid feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

ATOM = "{http://www.w3.org/2005/Atom}"
# RFC 3339 date-time, as atomDateConstruct requires.
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FEED_CHILDREN = {
    "author", "category", "contributor", "generator", "icon", "id", "link", "logo", "rights",
    "subtitle", "title", "updated", "entry",
}  # fmt: skip
ENTRY_CHILDREN = {
    "author", "category", "content", "contributor", "id", "link", "published", "rights",
    "source", "summary", "title", "updated",
}  # fmt: skip
SINGLE_IN_FEED = ("generator", "icon", "id", "logo", "rights", "subtitle", "title", "updated")
SINGLE_IN_ENTRY = ("content", "id", "published", "rights", "source", "summary", "title", "updated")


def _absolute_iri(value: str) -> bool:
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("urn", "tag"))


def _text_construct(element: ET.Element, where: str, problems: list[str]) -> None:
    kind = element.get("type", "text")
    if kind not in ("text", "html", "xhtml"):
        problems.append(f"{where}: type {kind!r} is not text, html or xhtml")
    if kind != "xhtml" and len(element):
        problems.append(f"{where}: a {kind} construct holds child elements")


def _common(element: ET.Element, where: str, problems: list[str], single: tuple[str, ...]) -> None:
    for name in single:
        found = element.findall(ATOM + name)
        if len(found) > 1:
            problems.append(f"{where}: more than one atom:{name}")
    for name in ("id", "title", "updated"):
        if element.find(ATOM + name) is None:
            problems.append(f"{where}: atom:{name} is required")
    ident = element.find(ATOM + "id")
    if ident is not None and not _absolute_iri((ident.text or "").strip()):
        problems.append(f"{where}: atom:id {ident.text!r} is not an absolute IRI")
    for name in ("updated", "published"):
        for date in element.findall(ATOM + name):
            if not DATE.match((date.text or "").strip()):
                problems.append(f"{where}: atom:{name} {date.text!r} is not an RFC 3339 date")
    for name in ("title", "subtitle", "summary", "rights"):
        for text in element.findall(ATOM + name):
            _text_construct(text, f"{where}/{name}", problems)
    for link in element.findall(ATOM + "link"):
        if not link.get("href"):
            problems.append(f"{where}: atom:link without href")
    alternates = {
        (link.get("type"), link.get("hreflang"))
        for link in element.findall(ATOM + "link")
        if link.get("rel", "alternate") == "alternate"
    }
    count = sum(
        1 for link in element.findall(ATOM + "link") if link.get("rel", "alternate") == "alternate"
    )
    if count != len(alternates):
        problems.append(f"{where}: two alternate links share type and hreflang")
    for person in element.findall(ATOM + "author") + element.findall(ATOM + "contributor"):
        names = person.findall(ATOM + "name")
        if len(names) != 1 or not (names[0].text or "").strip():
            problems.append(f"{where}: a person construct needs exactly one atom:name")


def atom_problems(document: bytes) -> list[str]:
    """What is wrong with an Atom feed document (empty when nothing is)."""
    problems: list[str] = []
    root = ET.fromstring(document)
    if root.tag != ATOM + "feed":
        return [f"the root is {root.tag}, not atom:feed"]
    _common(root, "feed", problems, SINGLE_IN_FEED)
    for child in root:
        if child.tag.startswith(ATOM) and child.tag[len(ATOM) :] not in FEED_CHILDREN:
            problems.append(f"feed: unexpected atom:{child.tag[len(ATOM) :]}")
    if not any(link.get("rel") == "self" for link in root.findall(ATOM + "link")):
        problems.append("feed: should have a rel=self link")
    feed_author = root.find(ATOM + "author") is not None
    ids: set[str] = set()
    for number, entry in enumerate(root.findall(ATOM + "entry"), start=1):
        where = f"entry {number}"
        _common(entry, where, problems, SINGLE_IN_ENTRY)
        for child in entry:
            if child.tag.startswith(ATOM) and child.tag[len(ATOM) :] not in ENTRY_CHILDREN:
                problems.append(f"{where}: unexpected atom:{child.tag[len(ATOM) :]}")
        ident = (entry.findtext(ATOM + "id") or "").strip()
        if ident in ids:
            problems.append(f"{where}: the id {ident} repeats")
        ids.add(ident)
        if not feed_author and entry.find(ATOM + "author") is None:
            problems.append(f"{where}: no atom:author here nor in the feed")
        content = entry.find(ATOM + "content")
        links = entry.findall(ATOM + "link")
        if content is None and not any(
            link.get("rel", "alternate") == "alternate" for link in links
        ):
            problems.append(f"{where}: needs atom:content or an alternate link")
        if content is not None:
            if content.get("src") and (content.text or "").strip():
                problems.append(f"{where}: atom:content with src must be empty")
            kind = content.get("type", "text")
            if kind not in ("text", "html", "xhtml") and "/" not in kind:
                problems.append(f"{where}: atom:content type {kind!r} is not valid")
            if kind == "html" and len(content):
                problems.append(f"{where}: html content must be escaped text, not elements")
        if (content is None or content.get("src")) and entry.find(ATOM + "summary") is None:
            problems.append(f"{where}: atom:summary is required without inline content")
    return problems
