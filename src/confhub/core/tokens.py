"""The secrets carried in links: check-in links and private calendar feeds.

A token is 128 random bits, URL-safe. It is stored as it is (the secretariat prints check-in
links on QR sheets, the profile page shows the calendar address again) and beside it as a
SHA-256 digest. Rows are looked up by the digest, so the database index compares digests and
never the secret itself; the row found is then confirmed with a constant-time comparison. A
string that cannot be a token is refused before any query.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_BYTES = 16  # 128 bits
# `secrets.token_urlsafe(16)` is 22 characters; the columns hold at most 64.
MIN_LENGTH = 22
MAX_LENGTH = 64
_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{MIN_LENGTH},{MAX_LENGTH}}}")


def new_token() -> str:
    """An unguessable link secret: 128 bits from `secrets`, base64url without padding."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: object) -> bool:
    """Whether `token` could be a token at all (length and URL-safe alphabet)."""
    return isinstance(token, str) and _SHAPE.fullmatch(token) is not None


def token_digest(token: str) -> str:
    """The SHA-256 of a token, in hex: what the database is searched by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def digest_or_none(token: str | None) -> str | None:
    """The digest to store beside a token; None when the token is cleared (revoked)."""
    return None if token is None else token_digest(token)


def same_token(stored: str | None, presented: str) -> bool:
    """A constant-time comparison of the stored secret with the one presented."""
    if stored is None:
        return False
    return hmac.compare_digest(stored.encode("utf-8"), presented.encode("utf-8"))
