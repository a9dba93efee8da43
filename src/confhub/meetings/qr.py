"""Check-in links and their QR codes, for printing on a point's invitation or showing on a screen.

The SVG is built by segno, without scripts or inline styles, so pages can inline it under a strict
Content-Security-Policy; colours come from the `qr` class in the stylesheet (or the defaults).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING
from urllib.parse import quote

from confhub.settings import Settings

if TYPE_CHECKING:
    import segno

# Error correction "M" survives a smudged printout (15 %) and keeps the code small.
ERROR_CORRECTION = "m"
CSS_CLASS = "qr"


def checkin_url(settings: Settings, token: str) -> str:
    """The chair's check-in link for one point and meeting: `{base_url}/checkin/{token}`."""
    return f"{settings.base_url.rstrip('/')}/checkin/{quote(token, safe='')}"


def _make(data: str) -> segno.QRCode:
    import segno  # when a code is first drawn, not in every serving process (issue 20)

    # micro=False: short data would otherwise become a Micro QR, which phone cameras do not read.
    return segno.make(data, error=ERROR_CORRECTION, micro=False)


def _svg(data: str, *, scale: int, xmldecl: bool, omitsize: bool = False) -> bytes:
    if scale < 1:
        raise ValueError("scale must be at least 1")
    buffer = io.BytesIO()
    _make(data).save(
        buffer,
        kind="svg",
        scale=scale,
        xmldecl=xmldecl,
        svgns=True,
        nl=xmldecl,
        omitsize=omitsize,
        svgclass=CSS_CLASS,
        lineclass=CSS_CLASS,
        encoding="utf-8",
    )
    return buffer.getvalue()


def qr_svg(data: str, *, scale: int = 4, fit: bool = False) -> str:
    """An SVG element of the QR code of `data`, to inline in HTML (no XML declaration).

    With `fit`, the element has a `viewBox` instead of a width and height, so the stylesheet sizes
    it (a printed sheet gives every code the same size in millimetres).
    """
    return _svg(data, scale=scale, xmldecl=False, omitsize=fit).decode("utf-8")


def qr_svg_document(data: str, *, scale: int = 8) -> bytes:
    """A standalone SVG file of the QR code of `data` (with XML declaration), to download."""
    return _svg(data, scale=scale, xmldecl=True)
