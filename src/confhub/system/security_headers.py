"""Security headers on every HTTP response: pages, JSON, errors, static files, media and feeds.

`SecurityHeaders` is a Litestar `before_send` hook rather than a route middleware, so it also
sees what never reaches a route: unmatched paths (404), 405s, static files and error pages. A
header the handler set deliberately is kept; the hook only fills in what is missing.

The Content-Security-Policy allows scripts, styles, images and connections from this origin only
(`connect-src 'self'` covers `ws:`/`wss:` to the same host in CSP Level 3 browsers): templates
carry no inline script, no `on*=` attribute, no `javascript:` URL and no `style=` attribute, and
the QR codes are inline SVG without styles. Strict-Transport-Security is sent only when confhub is
served over TLS: a `https://` base URL, or a request whose scheme is https (uvicorn believes
`X-Forwarded-Proto` from `CONFHUB_TRUSTED_PROXIES` only; see `confhub.system.serving`).
"""

from __future__ import annotations

from litestar.types import Message, Scope

from confhub.settings import Settings

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Nothing in confhub uses these; the check-in page needs no camera (the phone's own camera app
# reads the QR code). Copy buttons need clipboard-write, which stays at its default (self).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
# A year, as the nginx site sends it; no includeSubDomains: other services of a government domain
# may still be plain HTTP.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
# Paths that carry a secret token: no Referer at all, not even to confhub itself.
TOKEN_PATH_PREFIXES = ("/checkin/", "/calendar/private/")

_COMMON_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
)
_HSTS_HEADER = (b"strict-transport-security", STRICT_TRANSPORT_SECURITY.encode())


def referrer_policy(path: str) -> str:
    """`no-referrer` where the URL holds a token, else `same-origin` (as the nginx site sends)."""
    return "no-referrer" if path.startswith(TOKEN_PATH_PREFIXES) else "same-origin"


class SecurityHeaders:
    """The `before_send` hook adding the security headers to each `http.response.start`."""

    def __init__(self, settings: Settings) -> None:
        self.always_tls = settings.base_url.startswith("https://")

    def headers_for(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """The headers a response to this request should carry."""
        headers = [
            *_COMMON_HEADERS,
            (b"referrer-policy", referrer_policy(str(scope.get("path", ""))).encode()),
        ]
        if self.always_tls or scope.get("scheme") == "https":
            headers.append(_HSTS_HEADER)
        return headers

    async def __call__(self, message: Message, scope: Scope) -> None:
        """Add each missing header to the response's start message."""
        if message["type"] != "http.response.start":
            return
        headers = list(message.get("headers") or ())
        present = {bytes(name).lower() for name, _value in headers}
        headers.extend(
            (name, value) for name, value in self.headers_for(scope) if name not in present
        )
        message["headers"] = headers
