"""The two ways a notice leaves: SMTP (aiosmtplib) and a signed webhook POST (httpx).

Each answers one `Outcome` per message: delivered, or failed with the reason and whether a
retry may help (a refused recipient will be refused again; a server that is down may be back).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import httpx

SMTP_TIMEOUT = 20.0
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


def email_message(content: dict[str, Any], message_id: str, sender: str) -> EmailMessage:
    """The e-mail of a stored content: plain text and the `text/calendar; method=…` part, with
    the delivery's own Message-ID (the same on every retry)."""
    message = EmailMessage()
    message["Subject"] = content["subject"]
    message["From"] = formataddr(("confhub", sender))
    message["To"] = formataddr((content.get("to_name") or "", content["to"]))
    message["Message-ID"] = f"<{message_id}>"
    message["Date"] = format_datetime(datetime.now(UTC))
    message.set_content(content["text"])
    method = content.get("method", "REQUEST")
    message.add_alternative(
        content["ics"].encode(),
        maintype="text",
        subtype="calendar",
        params={"method": method, "charset": "utf-8", "name": "invite.ics"},
        cte="base64",
    )
    return message


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

    async def send(self, messages: list[tuple[EmailMessage, str]]) -> list[Outcome]:
        """Send each (message, recipient) in turn; the connection's failure fails what is left
        (to be retried), a recipient's refusal only that message."""
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

    async def _one(self, client: aiosmtplib.SMTP, message: EmailMessage, recipient: str) -> Outcome:
        try:
            await client.send_message(message, sender=self.sender, recipients=[recipient])
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
        outcomes = []
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, follow_redirects=False) as client:
            for body in bodies:
                outcomes.append(await self._one(client, body.encode()))
        return outcomes

    async def _one(self, client: httpx.AsyncClient, body: bytes) -> Outcome:
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
