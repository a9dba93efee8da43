"""Atom 1.0 feeds (RFC 4287) of a news site: full content, ids that never change, and an
`updated` that moves whenever an article's content does. One small exporter, apart from routes.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET  # only writes XML here, never parses it
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape

from confhub import __version__
from confhub.news.models import Article

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Feed ids are name-based UUIDs of the site key: stable across restarts and base URL changes.
_FEED_NAMESPACE = uuid.UUID("7f6a3c52-3c1e-5b7e-9a55-6b3d1c0e2f10")


@dataclass(frozen=True)
class FeedInfo:
    """What the feed says of its site."""

    site_key: str
    title: str
    subtitle: str
    author: str
    site_url: str
    self_url: str
    fallback_updated: datetime


def feed_id(site_key: str) -> str:
    """The site feed's permanent id."""
    return f"urn:uuid:{uuid.uuid5(_FEED_NAMESPACE, f'confhub:news:{site_key}')}"


def rfc3339(value: datetime) -> str:
    """A UTC timestamp as Atom writes it: 2025-09-10T10:00:00Z."""
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def figures_html(article: Article, base_url: str) -> Markup:
    """An article's photos as <figure>s (captions escaped)."""
    parts = [
        Markup('<figure><img src="{src}" alt="{alt}" width="{w}" height="{h}">').format(
            src=f"{base_url}/news/photos/{figure['key']}.jpg",
            alt=figure.get("caption", ""),
            w=int(figure.get("width") or 0),
            h=int(figure.get("height") or 0),
        )
        + (
            Markup("<figcaption>{}</figcaption>").format(figure["caption"])
            if figure.get("caption")
            else Markup("")
        )
        + Markup("</figure>")
        for figure in article.figures or []
    ]
    return Markup("").join(parts)


def article_html(article: Article, base_url: str) -> str:
    """The full content: the lead in bold, the body (its HTML stored when it was written,
    sanitised then), the photos."""
    lead = Markup("<p><strong>{}</strong></p>").format(article.lead) if article.lead else ""
    body = Markup(article.body_html)  # noqa: S704 - sanitised when stored
    return str(escape(lead) + body + figures_html(article, base_url))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


class AtomExporter:
    """Builds one site's feed from its published articles (newest first)."""

    def __init__(self, info: FeedInfo, base_url: str) -> None:
        self.info = info
        self.base_url = base_url

    def build(self, entries: Sequence[tuple[Article, str]]) -> bytes:
        """The feed document; `entries` pairs each article with its page's absolute URL."""
        info = self.info
        ET.register_namespace("", ATOM_NS)
        feed = ET.Element(f"{{{ATOM_NS}}}feed", {XML_LANG: "vi"})
        _sub(feed, "id", feed_id(info.site_key))
        _sub(feed, "title", info.title)
        _sub(feed, "subtitle", info.subtitle)
        updated = max((a.content_updated_at for a, _ in entries), default=info.fallback_updated)
        _sub(feed, "updated", rfc3339(updated))
        _sub(feed, "link", rel="self", type=MEDIA_TYPE, href=info.self_url)
        _sub(feed, "link", rel="alternate", type="text/html", href=info.site_url)
        author = _sub(feed, "author")
        _sub(author, "name", info.author)
        _sub(feed, "generator", "confhub", version=__version__)
        for article, url in entries:
            self._entry(feed, article, url)
        ET.indent(feed)
        document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
        return document

    def _entry(self, feed: ET.Element, article: Article, url: str) -> None:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:uuid:{article.uuid}")
        _sub(entry, "title", article.title)
        _sub(entry, "updated", rfc3339(article.content_updated_at))
        if article.published_at is not None:
            _sub(entry, "published", rfc3339(article.published_at))
        _sub(entry, "link", rel="alternate", type="text/html", href=url)
        if article.byline:  # who convened the meeting signs its province article
            _sub(_sub(entry, "author"), "name", article.byline)
        if article.lead:
            _sub(entry, "summary", article.lead)
        _sub(entry, "content", article_html(article, self.base_url), type="html")
        for figure in (article.figures or [])[:1]:
            _sub(
                entry,
                "link",
                rel="enclosure",
                type="image/jpeg",
                href=f"{self.base_url}/news/photos/{figure['key']}.jpg",
            )
