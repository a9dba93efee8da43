"""Clean URL slugs from Vietnamese titles: "Hội nghị trực tuyến đánh giá…" →
"hoi-nghi-truc-tuyen-danh-gia-…" (ASCII, đ → d, diacritics stripped), unique per site."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

MAX_SLUG = 100
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(title: str, max_length: int = MAX_SLUG) -> str:
    """An ASCII slug of `title`, cut at a word boundary; "bai-viet" when nothing is left."""
    text = title.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    slug = _NOT_ALNUM.sub("-", text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[: max_length + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut[:max_length]
        slug = slug.strip("-")
    return slug or "bai-viet"


def unique_slug(base: str, taken: Collection[str]) -> str:
    """`base`, or `base-2`, `base-3`… — the first not in `taken`."""
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"
