"""The two ways a notice leaves: SMTP (aiosmtplib) and a signed webhook POST (httpx).

Each answers one `Outcome` per message: delivered, or failed with the reason and whether a
retry may help (a refused recipient will be refused again; a server that is down may be back).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime, formataddr
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    import aiosmtplib
    import httpx

# aiosmtplib and httpx are imported when a message first leaves: a serving process whose
# province has no mail server or gateway never holds them (issue 20, an idle process's memory).

SMTP_TIMEOUT = 20.0
# SMTP connections a batch is sent over at once.
CONNECTIONS = 4
WEBHOOK_TIMEOUT = 10.0
SIGNATURE_HEADER = "X-Confhub-Signature"
MAX_REASON = 500


@dataclass(frozen=True)
class Outcome:
    """What became of one message."""

    delivered: bool
    reason: str = ""
    permanent: bool = False


def signature(secret: str, body: bytes) -> str:
    """The `X-Confhub-Signature` value: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SmtpServer:
    """Where `CONFHUB_SMTP_URL` says to send: host, port, TLS, and a login."""

    host: str
    port: int
    use_tls: bool
    start_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        """`smtp://[user:pass@]host:port`, `smtps://…`, `smtp://…?starttls=1`."""
        parts = urlsplit(url)
        tls = parts.scheme == "smtps"
        starttls = parse_qs(parts.query).get("starttls") == ["1"]
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if tls else 25),
            use_tls=tls,
            start_tls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def email_message(content: dict[str, Any], message_id: str, sender: str) -> bytes:
    """The e-mail of a stored content, as bytes: a plain-text part and (a notice about a meeting
    to come) the `text/calendar; method=…` part (both UTF-8, base64), with the delivery's own
    Message-ID (the same on every retry).

    Written directly rather than through the email package's message classes, which take tens
    of milliseconds per message to build and flatten (bench/notices.py); the headers are still
    encoded by it (RFC 2047 words for Vietnamese)."""
    boundary = "=_confhub_" + message_id.split("@", 1)[0]
    headers = [
        "Subject: " + Header(content["subject"], "utf-8").encode(linesep="\r\n"),
        "From: " + formataddr(("confhub", sender)),
        "To: " + formataddr((content.get("to_name") or "", content["to"]), charset="utf-8"),
        f"Message-ID: <{message_id}>",
        "Date: " + format_datetime(datetime.now(UTC)),
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    method = content.get("method", "REQUEST")
    parts = [('text/plain; charset="utf-8"', content["text"])]
    if content.get("ics"):  # a notice about a meeting to come; a draft's has none
        parts.append(
            (f'text/calendar; charset="utf-8"; method={method}; name="invite.ics"', content["ics"])
        )
    chunks = ["\r\n".join(headers).encode() + b"\r\n\r\n"]
    for content_type, text in parts:
        chunks.append(
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n".encode()
        )
        chunks.append(base64.encodebytes(text.encode()).replace(b"\n", b"\r\n"))
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


def valid_address(address: str) -> bool:
    """Whether the e-mail library can write the address in a header."""
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return "@" in address


class SmtpTransport:
    """Sends a batch of e-mails over one SMTP connection."""

    def __init__(self, url: str, sender: str) -> None:
        self.server = SmtpServer.parse(url)
        self.sender = sender

    async def send(self, messages: list[tuple[bytes, str]]) -> list[Outcome]:
        """Send each (message, recipient), over up to `CONNECTIONS` connections at once (each
        message waits for three answers of the server: the connections fill those waits)."""
        size = max(1, -(-len(messages) // CONNECTIONS))
        chunks = [messages[i : i + size] for i in range(0, len(messages), size)]
        answers = await asyncio.gather(*(self._send_over_one(chunk) for chunk in chunks))
        return [outcome for answer in answers for outcome in answer]

    async def _send_over_one(self, messages: list[tuple[bytes, str]]) -> list[Outcome]:
        """Send each (message, recipient) in turn over one connection; the connection's failure
        fails what is left (to be retried), a recipient's refusal only that message."""
        import aiosmtplib

        server = self.server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            use_tls=server.use_tls,
            start_tls=server.start_tls,
            timeout=SMTP_TIMEOUT,
        )
        outcomes: list[Outcome] = []
        try:
            await client.connect()
            if server.username:
                await client.login(server.username, server.password or "")
            for message, recipient in messages:
                outcomes.append(await self._one(client, message, recipient))
        except (aiosmtplib.SMTPException, OSError) as exc:
            reason = _reason(f"SMTP server {server.host}:{server.port}: {exc}")
            outcomes += [Outcome(False, reason)] * (len(messages) - len(outcomes))
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()
        return outcomes

    async def _one(self, client: aiosmtplib.SMTP, message: bytes, recipient: str) -> Outcome:
        import aiosmtplib

        try:
            await client.sendmail(self.sender, [recipient], message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0] if exc.recipients else None
            code = refusal.code if refusal else 550
            text = refusal.message if refusal else str(exc)
            return Outcome(False, _reason(f"{recipient} refused: {code} {text}"), code >= 500)
        except aiosmtplib.SMTPResponseException as exc:
            permanent = exc.code >= 500
            return Outcome(False, _reason(f"{exc.code} {exc.message}"), permanent)
        return Outcome(True)


class WebhookTransport:
    """POSTs each signed body to the configured address; a 2xx answer means delivered."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret

    async def send(self, bodies: list[str]) -> list[Outcome]:
        """POST each body in turn over one client."""
        import httpx

        outcomes = []
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, follow_redirects=False) as client:
            for body in bodies:
                outcomes.append(await self._one(client, body.encode()))
        return outcomes

    async def _one(self, client: httpx.AsyncClient, body: bytes) -> Outcome:
        import httpx

        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: signature(self.secret, body),
            "User-Agent": "confhub-notices",
        }
        try:
            response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(False, _reason(f"{self.url}: {type(exc).__name__} {exc}"))
        if 200 <= response.status_code < 300:
            return Outcome(True)
        return Outcome(False, _reason(f"HTTP {response.status_code} {response.text[:200]}"))


def _reason(text: str) -> str:
    return " ".join(text.split())[:MAX_REASON]
