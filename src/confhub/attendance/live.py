"""`/ws/meetings/{id}`: the live channel of the contract, written by hand (the channels plugin's
generated handlers take no guards). A client that may not watch is accepted and closed with
1008 so the browser sees why; what can be refused without I/O was refused by the gate in front
(`confhub.attendance.handshake`). No database session is held for the socket's lifetime; each
message opens a short one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import msgspec
from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState
from sqlalchemy.exc import SQLAlchemyError

from confhub.attendance import events
from confhub.attendance.access import Access, resolve_access
from confhub.attendance.desk import live as desk_live
from confhub.attendance.desk.live import Handler
from confhub.attendance.desk.writer import DeskWriter
from confhub.attendance.handshake import (
    NOT_ALLOWED,
    POLICY_VIOLATION,
    TRY_AGAIN_LATER,
    LiveRoute,
    busy,
    refused,
)
from confhub.attendance.hub import MAX_BATCH, AttendanceHub, LiveClient
from confhub.attendance.presence import PresenceTracker
from confhub.attendance.schemas import decode_checkin
from confhub.attendance.snapshots import SnapshotReads
from confhub.attendance.speaking.desk import SpeakingDesk
from confhub.attendance.speaking.schemas import SpeakRequestWrite, decode
from confhub.attendance.writer import AttendanceWriter
from confhub.core.errors import ConfhubError
from confhub.core.outages import outage_of
from confhub.meetings.link_cache import LinkLookupsBusyError
from confhub.system import metrics

# The size and rate caps of a socket's messages are settings (CONFHUB_WS_*): a token bucket
# per socket, a burst then so many a second. This many refusals close the socket.
MAX_REFUSALS = 100
# Ids and counts travel as 64-bit integers in the database.
MAX_WHOLE_NUMBER = 2**63 - 1
# The desk's messages from a point wait for the desk's turn in the meeting's writer queue, behind
# the roll call's check-ins: the socket reads on meanwhile (a check-in sent after a speaking
# request is not held up by it), and each is answered once stored, its ack naming it. Each is
# queued before the next message is read, so a socket's messages of one kind keep their order.
ANSWERED_WHEN_STORED = frozenset(
    {"speak_request", "incident", "announcement_seen", "announcement_ack"}
)
# A socket with this many unanswered waits for the oldest before it reads on.
MAX_UNANSWERED = 16

logger = logging.getLogger("confhub.live")


@LiveRoute("/ws/meetings/{meeting_id:int}", name="live")
async def live_socket(socket: WebSocket[Any, Any, Any], meeting_id: int) -> None:
    """The live attendance channel of one meeting (past the gate of
    `confhub.attendance.handshake`, which refused what needs no I/O to refuse)."""
    try:
        access = await resolve_access(socket, meeting_id)
    except LinkLookupsBusyError:
        await busy(socket.scope, socket.receive, socket.send)
        return
    except Exception as exc:
        if outage_of(exc) is None:
            raise
        logger.warning("live socket of meeting %s not let in: %s", meeting_id, exc)
        await socket.accept()
        await socket.close(code=TRY_AGAIN_LATER, reason="service unavailable; reconnect shortly")
        return
    await socket.accept()
    if access is None:
        refused("not_allowed")
        await socket.close(code=POLICY_VIOLATION, reason=NOT_ALLOWED)
        return
    # The request's headers were read by the handshake (its gate, the session, the principal)
    # and are not read again on this socket: the scope's list and Litestar's parsed copy are
    # dropped, ~2.8 KiB of each open socket with a benchmark client's seven headers, more
    # with a browser's through the proxy (issue 20).
    socket.scope["headers"] = []
    ScopeState.from_scope(socket.scope).headers = Empty
    connection = LiveConnection(socket, socket.app.state, meeting_id, access)
    await connection.run()


# A delta's JSON, encoded once however many clients receive the same view of it (every board
# does): a speaking delta carries the whole queue, 50 boards would encode it 50 times.
_ENCODED: dict[int, tuple[dict[str, Any], str]] = {}
_ENCODED_MAX = 1024


def encoded(message: dict[str, Any]) -> str:
    """`message` as JSON text, from the cache when this very object was encoded before."""
    hit = _ENCODED.get(id(message))
    if hit is not None and hit[0] is message:
        return hit[1]
    text = msgspec.json.encode(message).decode("utf-8")
    if len(_ENCODED) >= _ENCODED_MAX:
        _ENCODED.clear()
    _ENCODED[id(message)] = (message, text)
    return text


class LiveConnection:
    """The conversation on one accepted socket."""

    def __init__(
        self, socket: WebSocket[Any, Any, Any], state: Any, meeting_id: int, access: Access
    ) -> None:
        self.socket = socket
        self.hub: AttendanceHub = state.live_hub
        self.presence: PresenceTracker = state.presence
        self.snapshots: SnapshotReads = state.live_snapshots
        self.writer: AttendanceWriter = state.attendance_writer
        self.desk: DeskWriter = state.desk_writer
        self.db_config = state.db_config
        self.meeting_id = meeting_id
        self.access = access
        self.client = LiveClient(
            meeting_id, access.point_ids, wake=self._wake, close_socket=self._close
        )
        settings = state.settings
        self.max_message_bytes: int = settings.ws_max_message_bytes
        self.bucket_size = float(settings.ws_message_burst)
        self.bucket_rate: float = settings.ws_messages_per_second
        self.tokens = self.bucket_size
        self.refill_at = time.monotonic()
        self.refusals = 0
        self.send_lock = asyncio.Lock()
        # Held while deciding which version the client has and sending snapshots or deltas, so
        # the queue's sender, a resync and a snapshot never interleave or reorder versions.
        self.delivery_lock = asyncio.Lock()
        self.closed = False
        # Sends what the hub queued; started when there is something to send, and ends when
        # the queue is empty (most point sockets are idle most of the time).
        self.sender: asyncio.Task[None] | None = None
        self.started = False
        # The messages being stored to be answered later (`ANSWERED_WHEN_STORED`).
        self.unanswered: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Snapshot, then deltas out and messages in until the socket closes."""
        kind = metrics.websocket_kind(self.access.point_ids)
        metrics.WEBSOCKETS_ACCEPTED.labels(kind=kind).inc()
        metrics.WEBSOCKETS_OPEN.labels(kind=kind).inc()
        try:
            await self._run()
        except Exception as exc:
            # The database went away before the snapshot could be read: the client reconnects.
            if outage_of(exc) is None:
                raise
            logger.warning("live socket of meeting %s: %s", self.meeting_id, exc)
            await self._close(TRY_AGAIN_LATER, "service unavailable; reconnect shortly")
        finally:
            metrics.WEBSOCKETS_OPEN.labels(kind=kind).dec()

    async def _run(self) -> None:
        await self.hub.join(self.client)
        for point_id in self.access.point_ids or ():
            self.presence.connected(self.meeting_id, point_id)
        try:
            # The snapshot goes first; deltas queued meanwhile wait and are sent only when newer.
            await self._send_snapshot()
            self.started = True
            self._wake()
            await self._receive_forever()
        except WebSocketDisconnect:
            pass
        finally:
            self.started = False
            if self.sender is not None:
                self.sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self.sender
            await self.hub.leave(self.client)
            self._went_offline()

    async def _send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            if not self.closed:
                await self.socket.send_json(message)

    async def _close(self, code: int, reason: str) -> None:
        """Close from the server's side (e.g. 1012 when this process stops); the receive loop
        then sees the disconnect and the socket leaves the hub."""
        async with self.send_lock:
            if not self.closed and self.socket.connection_state != "disconnect":
                self.closed = True
                await self.socket.close(code=code, reason=reason)

    async def _send_snapshot(self) -> None:
        async with self.delivery_lock:
            await self._send_snapshot_unlocked()

    async def _send_snapshot_unlocked(self) -> None:
        version, text = await self.snapshots.read(
            self.meeting_id, self.access.point_ids, self.access.with_phones
        )
        self.client.last_version = version
        self.client.needs_snapshot = False
        async with self.send_lock:
            if not self.closed:
                await self.socket.send_text(text)

    def _wake(self) -> None:
        """The hub queued something: start sending unless a sender is at work already."""
        if self.started and (self.sender is None or self.sender.done()):
            self.sender = asyncio.create_task(self._send_pending())

    async def _send_pending(self) -> None:
        client = self.client
        try:
            while client.pending or client.needs_snapshot:
                if client.needs_snapshot:
                    await self._send_snapshot()
                    continue
                await self._send_deltas(client.take(MAX_BATCH))
        except Exception:  # the socket is gone; its receive loop ends the conversation
            logger.debug("live send to meeting %s stopped", self.meeting_id, exc_info=True)
        finally:
            # A finished task is not kept: an idle socket holds no task (issue 20).
            if self.sender is asyncio.current_task():
                self.sender = None

    async def _send_deltas(self, messages: list[dict[str, Any]]) -> None:
        async with self.delivery_lock:
            await self._send_deltas_unlocked(messages)

    async def _send_deltas_unlocked(self, messages: list[dict[str, Any]]) -> None:
        fresh = [m for m in messages if int(m["version"]) > self.client.last_version]
        if not fresh:
            return
        self.client.last_version = int(fresh[-1]["version"])
        if len(fresh) == 1:
            text = encoded(fresh[0])
        else:
            # Several deltas in one frame when they come faster than one frame each can carry.
            joined = ",".join(encoded(message) for message in fresh)
            text = f'{{"type":"batch","version":{self.client.last_version},"messages":[{joined}]}}'
        async with self.send_lock:
            if not self.closed:
                await self.socket.send_text(text)

    async def _receive_forever(self) -> None:
        while True:
            event = await self.socket.receive()
            if event["type"] == "websocket.disconnect":
                return
            text, raw = event.get("text"), event.get("bytes")
            data = text.encode("utf-8") if isinstance(text, str) else raw
            if not isinstance(data, bytes):
                data = b""
            verdict = await self._admit(data)
            if verdict is None:
                return
            if verdict:
                await self._handle(data.decode("utf-8", errors="replace"))

    async def _admit(self, data: bytes) -> bool | None:
        """Rate and size limits: True handles the message, False drops it with an error, None
        closes the socket (a client that will not slow down)."""
        now = time.monotonic()
        refill = (now - self.refill_at) * self.bucket_rate
        self.tokens = min(self.bucket_size, self.tokens + refill)
        self.refill_at = now
        if self.tokens < 1:
            self.refusals += 1
            if self.refusals >= MAX_REFUSALS:
                await self.socket.close(code=POLICY_VIOLATION, reason="too many messages")
                return None
            await self._error("too many messages; slow down")
            return False
        self.tokens -= 1
        if len(data) > self.max_message_bytes:
            await self._error(f"message too large (at most {self.max_message_bytes} bytes)")
            return False
        return True

    async def _error(self, detail: str, **extra: Any) -> None:
        await self._send({"type": "error", "detail": detail, **extra})

    async def _handle(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            await self._error("not JSON")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self._error("a message is a JSON object with a type")
            return
        handler = HANDLERS.get(message["type"])
        if handler is None:
            await self._error(f"unknown message type {message['type'][:40]!r}")
            return
        if message["type"] not in ANSWERED_WHEN_STORED:
            await self._answer(handler, message)
            return
        if len(self.unanswered) >= MAX_UNANSWERED:
            await asyncio.wait(self.unanswered, return_when=asyncio.FIRST_COMPLETED)
        # The task's first step queues the message (no await before it), so tasks started in
        # the order messages arrived queue them in that order.
        task = asyncio.create_task(self._answer_later(handler, message))
        self.unanswered.add(task)
        task.add_done_callback(self.unanswered.discard)

    async def _answer(self, handler: Handler, message: dict[str, Any]) -> None:
        """Run a message's handler, answering a refusal or a failed write with an `error`."""
        try:
            await handler(self, message)
        except ConfhubError as exc:
            # The HTTP code the API would answer: clients tell refusals apart by it, not by words.
            await self._error(exc.detail, status_code=exc.status_code, **_key_of(message))
        except (TypeError, ValueError, KeyError) as exc:
            await self._error(f"bad message: {exc}", **_key_of(message))
        except Exception as exc:
            # Nothing was stored (the transaction rolled back, or never began): the socket stays
            # open and the client sends it again with the same key, stored once.
            dependency = outage_of(exc)
            if dependency is not None:
                logger.warning(
                    "live message of meeting %s: %s is down", self.meeting_id, dependency
                )
                detail = f"could not be stored now: {dependency} is not answering; send it again"
            elif isinstance(exc, SQLAlchemyError):
                logger.exception("live message of meeting %s failed", self.meeting_id)
                detail = "could not be stored now; send it again"
            else:
                raise
            await self._error(detail, retry=True, **_key_of(message))

    async def _answer_later(self, handler: Handler, message: dict[str, Any]) -> None:
        try:
            await self._answer(handler, message)
        except Exception:
            if self.closed or self.socket.connection_state == "disconnect":
                # Its answer could not be sent: the client sends the message again (with the
                # same id, stored once) when it is back, and is answered then.
                logger.debug("live answer in meeting %s not sent", self.meeting_id, exc_info=True)
            else:
                logger.exception("live message of meeting %s failed", self.meeting_id)

    async def _on_heartbeat(self, message: dict[str, Any]) -> None:
        rtt = message.get("rtt_ms")
        rtt_ms = int(rtt) if isinstance(rtt, int | float) and 0 <= rtt < 600_000 else None
        for point_id in self.access.point_ids or ():
            self.presence.beat(self.meeting_id, point_id, rtt_ms)
        await self._send(
            {
                "type": "pong",
                "sent_at": message.get("sent_at"),
                "server_time": int(time.time() * 1000),
            }
        )

    async def _on_checkin(self, message: dict[str, Any]) -> None:
        # The HTTP check-in's schema: what it refuses is refused here for good, an `error`
        # without the "send it again" of a failed write, since sending it again could never
        # succeed.
        read_at = time.perf_counter()
        data = decode_checkin({k: v for k, v in message.items() if k != "type"})
        # Committed (with whatever else arrived meanwhile) before it is acknowledged.
        outcome = await self.writer.submit(self.meeting_id, self.access.actor, data)
        await self._send(
            {
                "type": "ack",
                "idempotency_key": outcome.record.idempotency_key,
                "version": outcome.record.version,
                "point_id": outcome.record.point_id,
                "status": outcome.record.status,
                "duplicate": not outcome.created,
            }
        )
        metrics.CHECKIN_ANSWER.observe(time.perf_counter() - read_at)

    async def _on_signal(self, message: dict[str, Any]) -> None:
        point_ids = self.access.point_ids
        point_id = message.get("point_id")
        if point_id is None and point_ids is not None and len(point_ids) == 1:
            point_id = next(iter(point_ids))
        if point_id is None:
            await self._error("say which point_id the signal is for")
            return
        await self.writer.signal(
            self.meeting_id,
            self.access.actor,
            _whole_number(point_id, "point_id"),
            str(message.get("signal", "")),
        )

    async def _on_speak_request(self, message: dict[str, Any]) -> None:
        # A link acts for its own point; a chair of several points names one (`point_id`).
        fields = {k: v for k, v in message.items() if k != "type"}
        point_ids = self.access.point_ids
        if "point_id" not in fields and point_ids is not None and len(point_ids) == 1:
            fields["point_id"] = next(iter(point_ids))
        data = decode(fields, SpeakRequestWrite)
        asked = await SpeakingDesk(self.db_config).ask(self.meeting_id, self.access.actor, data)
        await self._send(
            {
                "type": "ack",
                "id": asked.request["request_id"],
                "version": asked.version,
                "request": asked.request,
                "duplicate": not asked.created,
            }
        )

    async def _on_resync(self, message: dict[str, Any]) -> None:
        """The deltas after `since`, in order; a snapshot when `since` is 0, further behind than
        the log answers, or ahead of the meeting (the client's state is from elsewhere)."""
        since = _whole_number(message.get("since", 0), "since")
        async with self.delivery_lock:
            async with self.db_config.get_session() as session:
                latest = await events.current_version(session, self.meeting_id)
                missed = None
                if 0 < since <= latest:
                    missed = await events.since(session, self.meeting_id, since)
            if missed is None:
                await self._send_snapshot_unlocked()
                return
            self.client.last_version = since
            shown = [self.client.view(m) for m in missed]
            await self._send_deltas_unlocked([m for m in shown if m is not None])
            newest = int(missed[-1]["version"]) if missed else since
            self.client.last_version = max(self.client.last_version, newest)

    def _went_offline(self) -> None:
        # Stored (and broadcast) by the presence loop within PRESENCE_EVERY, in batches.
        for point_id in self.access.point_ids or ():
            self.presence.disconnected(self.meeting_id, point_id)


# The message types and their handlers, one table for every connection (issue 20: a table of
# bound methods and closures built per connection cost each point socket ~1.3 KiB).
HANDLERS: dict[str, Handler] = {
    "heartbeat": LiveConnection._on_heartbeat,
    "checkin": LiveConnection._on_checkin,
    "signal": LiveConnection._on_signal,
    "resync": LiveConnection._on_resync,
    "speak_request": LiveConnection._on_speak_request,
    **desk_live.HANDLERS,
}


def _key_of(message: dict[str, Any]) -> dict[str, Any]:
    """What a refusal names of the message it refuses: its idempotency key, or the id its
    client chose (`request_id` of a speaking request, as `id`, like its ack)."""
    key = message.get("idempotency_key")
    if isinstance(key, str):
        return {"idempotency_key": key}
    # The speaking and desk messages are told apart by their client's id.
    for name in ("request_id", "incident_id", "announcement_id"):
        chosen = message.get(name)
        if isinstance(chosen, str):
            return {"id": chosen[:100]}
    return {}


def _whole_number(value: Any, name: str) -> int:
    """A JSON number or numeric string that is a whole number the database can hold."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be a whole number")
    try:
        number = int(value)  # OverflowError: 1e999 is infinity
    except (ValueError, OverflowError):
        raise ValueError(f"{name} must be a whole number") from None
    if (isinstance(value, float) and number != value) or abs(number) > MAX_WHOLE_NUMBER:
        raise ValueError(f"{name} must be a whole number")
    return number
