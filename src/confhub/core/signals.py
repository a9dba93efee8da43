"""Signals: how a change in one domain reaches the domains above it that must react, without the
lower domain naming them (the layers contract in pyproject.toml forbids that import).

A domain declares the signals it sends in its own `signals.py` (as pretalx does); a domain that
must react connects a receiver in its own `listeners.py` (as Indico's modules answer
`signals.users.merged`). `confhub.app` and `confhub.cli` import every `listeners.py`, so each
process has its receivers connected before anything is sent.

Sending awaits each receiver in turn, in the order they connected, with the sender's session:
what a receiver writes belongs to the sender's transaction and commits or rolls back with it,
and a receiver that raises fails the sender. That is what a change that must be atomic needs
(a meeting's new status and its attendance event with the next version). An effect that must
wait for the commit is queued on the session by the receiver, as attendance's live deltas are
(confhub.attendance.fanout sends them once the transaction commits, and never on a rollback).

Why not blinker, which Flask and Indico use: its receivers take `(sender, **kwargs)`, which mypy
cannot check against what is sent, and it holds them by weak reference. A `Signal[Event,
Result]` of a few lines lets mypy check every receiver against its signal. Nor Litestar's
`@listener` and `app.emit`: they run after the response, outside the transaction, and only in a
running app, never in the command line's `units load`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from confhub.db import DbSession

EventT = TypeVar("EventT")
ResultT = TypeVar("ResultT")

# A receiver: the sender's session and what happened; its result goes back to the sender.
Receiver = Callable[[DbSession, EventT], Awaitable[ResultT]]


class Signal(Generic[EventT, ResultT]):
    """Something that happened in one domain, sent to the receivers other domains connected."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[Receiver[EventT, ResultT]] = []

    def __repr__(self) -> str:
        return f"Signal({self.name!r})"

    def connect(self, receiver: Receiver[EventT, ResultT]) -> Receiver[EventT, ResultT]:
        """Connect `receiver` (a decorator too); connecting it again changes nothing."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    async def send(self, session: DbSession, event: EventT) -> list[ResultT]:
        """Await every receiver, in the order they connected, inside the caller's transaction;
        their results in the same order. A receiver's exception propagates to the caller."""
        return [await receiver(session, event) for receiver in list(self._receivers)]
