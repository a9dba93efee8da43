"""Real receivers for the notices' tests: an SMTP server (aiosmtpd) and an HTTP server taking
the webhook's posts, each in a thread of its own, keeping what they received."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import free_port


@dataclass
class SmtpInbox:
    """What the SMTP server accepted: each message as parsed, with its envelope recipients."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    # Recipients to refuse with 550, as a mail server refuses an unknown mailbox.
    refused: set[str] = field(default_factory=set)
    # Seconds each message takes to be taken (a slow server, so a sender can be killed mid-send).
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        assert isinstance(envelope.content, bytes)
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def count(self) -> int:
        """How many messages arrived (copies included)."""
        with self.lock:
            return len(self.messages)

    def by_message_id(self) -> dict[str, list[Message]]:
        """Every message by its Message-ID (a copy would make a list of two)."""
        found: dict[str, list[Message]] = {}
        with self.lock:
            for _rcpts, message in self.messages:
                found.setdefault(str(message["Message-ID"]), []).append(message)
        return found


@contextmanager
def smtp_server() -> Iterator[tuple[str, SmtpInbox]]:
    """A running SMTP server on loopback: its `smtp://` URL and its inbox."""
    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


def calendar_part(message: Message) -> tuple[str, bytes]:
    """The message's `text/calendar` part: its method parameter and its bytes."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return str(part.get_param("method")), payload
    raise AssertionError("no text/calendar part")


@dataclass
class WebhookInbox:
    """The posts the HTTP server received, whether their signature was right, and what it
    answers (a status code to give for the next posts)."""

    secret: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    answer: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> dict[str, int]:
        """How many posts arrived with each `id`."""
        counts: dict[str, int] = {}
        with self.lock:
            for post in self.posts:
                counts[post["id"]] = counts.get(post["id"], 0) + 1
        return counts


@contextmanager
def webhook_server(secret: str) -> Iterator[tuple[str, WebhookInbox]]:
    """A running HTTP server on loopback taking the webhook's posts: its URL and its inbox."""
    inbox = WebhookInbox(secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            signed = hmac.compare_digest(self.headers.get("X-Confhub-Signature", ""), expected)
            with inbox.lock:
                if signed:
                    inbox.posts.append(json.loads(body))
                else:
                    inbox.bad_signatures += 1
                status = inbox.answer if signed else 401
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", inbox
    finally:
        server.shutdown()
        server.server_close()
