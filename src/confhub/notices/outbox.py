"""confhub's own transactional outbox: notices are rows written in the transaction of the
change that causes them, and a worker in every serve process delivers them.

Why not a kept queue library: SAQ (with litestar-saq, as litestar-fullstack uses) needs Redis,
and procrastinate needs PostgreSQL through psycopg. Neither works on the embedded SQLite
default, and neither can enqueue inside the app's own asyncpg transaction — yet a notice must
commit or roll back with the reschedule that causes it (a job enqueued beside the transaction is
lost when the process dies between the two, or sent for a change that was rolled back). A table
in the same database gives that for free, on both engines.

Nothing lost, nothing twice:
- A worker claims due deliveries by setting a lease (`lease_until`) in a short transaction; on
  PostgreSQL the candidates are read `FOR UPDATE SKIP LOCKED`, so two processes never claim the
  same row; on SQLite (one process, writes serialised) the same conditional UPDATE is enough.
- It then sends, and records the outcome. A process killed between the two leaves the lease to
  expire; the row is sent again with the same Message-ID / webhook `id`, which receivers use to
  drop the copy (at-least-once delivery, exactly-once by id at the receiver).
- A failure is retried with backoff (5 s, doubling) until at least `RETRY_FOR` has passed since
  the first attempt and `MIN_ATTEMPTS` were made; then the delivery is `failed` with the reason.
  A permanent refusal (SMTP 5xx for the recipient, no address at all) fails at once.
- At send time a notice the meeting no longer warrants is dropped: anything but the cancellation
  of a cancelled meeting, anything for a meeting that is over, a reminder of an old start time.
  A unit editor's notice of a draft (`draft_review`) is about a meeting held: the news withdraws
  it (recording.withdraw) when the draft goes before it is sent.

Reminders are not queued in advance: each pass records the reminders now due for the meeting's
current start and its own lead times (24 h and 60 min before by default; confhub.meetings.
reminders), keyed by that start so two processes record each once, so they move with a
reschedule, never exist for a cancelled meeting, and one whose lead time was removed meanwhile
is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update

from confhub.core.i18n import N_
from confhub.db import DbSession, is_sqlite
from confhub.meetings.models import Invitation, Meeting, MeetingStatus
from confhub.meetings.reminders import MAX_MINUTES, leads_of
from confhub.notices import recording
from confhub.notices.composing import Composer, NoticeContext
from confhub.notices.models import Channel, DeliveryState, Notice, NoticeDelivery, NoticeKind
from confhub.notices.policy import NoticePolicy
from confhub.notices.signals import NoticeStateChanged, notice_state_changed
from confhub.notices.transports import (
    Outcome,
    SmtpTransport,
    WebhookTransport,
    email_message,
    valid_address,
)

logger = logging.getLogger("confhub.notices")

LEASE = timedelta(seconds=60)
FIRST_RETRY = timedelta(seconds=5)
MAX_RETRY = timedelta(minutes=10)
RETRY_FOR = timedelta(minutes=1)
MIN_ATTEMPTS = 4
BATCH = 200
# Why a delivery failed before anything was sent: message ids, so pages say them in their
# language (a mail server's own answer is shown as it came).
NO_ADDRESS = N_("No e-mail address")
NOT_AN_ADDRESS = N_("Not an e-mail address")
NO_PHONE = N_("No phone number")
# The furthest before its start a meeting may be reminded of (its own leads say when).
REMINDER_HORIZON = timedelta(minutes=MAX_MINUTES)


@dataclass
class Transports:
    """The channels this process can send on (e-mail only with an SMTP server)."""

    email: SmtpTransport | None = None
    webhook: WebhookTransport | None = None

    @property
    def channels(self) -> list[str]:
        """The channels a worker claims."""
        found = []
        if self.email is not None:
            found.append(Channel.EMAIL.value)
        if self.webhook is not None:
            found.append(Channel.WEBHOOK.value)
        return found


@dataclass
class PassResult:
    """What one pass did (the bench and tests count it)."""

    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    retried: int = 0
    dropped: int = 0
    reminders: int = 0
    # The points whose invitation was delivered or failed, by meeting.
    changed: dict[int, set[int]] = field(default_factory=dict)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th failure: 5 s, 10 s, 20 s, … at most 10 min."""
    delay: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_RETRY)


async def claim(
    session: DbSession, channels: Sequence[str], now: datetime, limit: int = BATCH
) -> list[NoticeDelivery]:
    """Take up to `limit` due deliveries on `channels` for this worker (state `sent` under a
    lease), and commit the claim."""
    if not channels:
        return []
    due = (
        select(NoticeDelivery.id)
        .where(
            NoticeDelivery.channel.in_(channels),
            NoticeDelivery.next_attempt_at <= now,
            or_(
                NoticeDelivery.state == DeliveryState.QUEUED.value,
                # Claimed by a worker that died mid-send: its lease has run out.
                (NoticeDelivery.state == DeliveryState.SENT.value)
                & (NoticeDelivery.lease_until < now),
            ),
        )
        .order_by(NoticeDelivery.next_attempt_at, NoticeDelivery.id)
        .limit(limit)
    )
    if not is_sqlite(session):  # PostgreSQL: workers of several processes take disjoint rows
        due = due.with_for_update(skip_locked=True)
    ids = list(await session.scalars(due))
    if not ids:
        await session.commit()
        return []
    lease = now + LEASE
    await session.execute(
        update(NoticeDelivery)
        .where(NoticeDelivery.id.in_(ids))
        .values(state=DeliveryState.SENT.value, lease_until=lease)
    )
    claimed = list(
        await session.scalars(
            select(NoticeDelivery).where(NoticeDelivery.id.in_(ids)).order_by(NoticeDelivery.id)
        )
    )
    await session.commit()
    return claimed


def unwanted(context: NoticeContext, now: datetime) -> str | None:
    """Why a notice is no longer to be sent, or None when it still is."""
    meeting, kind = context.meeting, context.notice.kind
    if kind == NoticeKind.DRAFT_REVIEW.value:
        return None  # about a meeting held; withdrawn by the news if its draft goes
    if recording.is_over(meeting, now):
        return "the meeting is over"
    if meeting.status == MeetingStatus.CANCELLED.value and kind != NoticeKind.CANCELLATION.value:
        return "the meeting is cancelled"
    moved = context.notice.payload.get("starts_at") != meeting.starts_at.isoformat()
    if kind == NoticeKind.REMINDER.value and moved:
        return "the meeting was moved"
    if (
        kind == NoticeKind.REMINDER.value
        and context.notice.payload.get("lead_minutes") not in meeting.reminders
    ):
        return "the meeting's reminders were changed"
    return None


class Outbox:
    """One worker's passes over the outbox: claim, write, send, record."""

    def __init__(self, policy: NoticePolicy, transports: Transports) -> None:
        self.policy = policy
        self.transports = transports

    async def deliver_due(self, session: DbSession, now: datetime | None = None) -> PassResult:
        """Record due reminders, then claim and send one batch of due deliveries."""
        now = now or datetime.now(UTC)
        result = PassResult()
        result.reminders = await record_due_reminders(session, now)
        await session.commit()
        deliveries = await claim(session, self.transports.channels, now)
        result.claimed = len(deliveries)
        if not deliveries:
            return result
        composer = Composer(session, self.policy)
        contexts = await composer.contexts(deliveries)
        sendable: list[NoticeDelivery] = []
        for delivery in deliveries:
            context = contexts[delivery.id]
            reason = unwanted(context, now)
            if reason is not None:
                await self._drop(session, delivery, context, reason)
                result.dropped += 1
                continue
            if delivery.content is None:
                delivery.content = composer.content(context, delivery)
                delivery.recipient = delivery.content["to"]
                delivery.recipient_name = delivery.content["to_name"]
            sendable.append(delivery)
        await session.commit()  # the content is fixed before anything leaves
        outcomes = await self._send(sendable)
        for delivery in sendable:
            outcome = outcomes[delivery.id]
            self._record(delivery, outcome, now, result, contexts[delivery.id])
        await session.commit()
        for meeting_id, point_ids in result.changed.items():
            change = NoticeStateChanged(meeting_id, tuple(sorted(point_ids)))
            await notice_state_changed.send(session, change)
        await session.commit()
        return result

    async def _drop(
        self, session: DbSession, delivery: NoticeDelivery, context: NoticeContext, reason: str
    ) -> None:
        """A reminder vanishes; anything else stays on the outbox as failed, saying why."""
        if context.notice.kind == NoticeKind.REMINDER.value:
            await session.execute(delete(NoticeDelivery).where(NoticeDelivery.id == delivery.id))
            return
        delivery.state = DeliveryState.FAILED.value
        delivery.last_error = f"Not sent: {reason}"
        delivery.lease_until = None

    async def _send(self, deliveries: list[NoticeDelivery]) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        emails: list[NoticeDelivery] = []
        hooks: list[NoticeDelivery] = []
        for delivery in deliveries:
            assert delivery.content is not None
            if delivery.channel == Channel.EMAIL.value:
                if not delivery.recipient:
                    outcomes[delivery.id] = Outcome(False, NO_ADDRESS, permanent=True)
                elif not valid_address(delivery.recipient):
                    # The address itself is on the outbox page, not in the reason boards show.
                    outcomes[delivery.id] = Outcome(False, NOT_AN_ADDRESS, permanent=True)
                else:
                    emails.append(delivery)
            elif not delivery.recipient:
                outcomes[delivery.id] = Outcome(False, NO_PHONE, permanent=True)
            else:
                hooks.append(delivery)
        if emails and self.transports.email is not None:
            sender = self.policy.mail_from
            messages = [
                (email_message(d.content or {}, d.message_id, sender), d.recipient) for d in emails
            ]
            for delivery, outcome in zip(
                emails, await self.transports.email.send(messages), strict=True
            ):
                outcomes[delivery.id] = outcome
        if hooks and self.transports.webhook is not None:
            bodies = [str((d.content or {})["body"]) for d in hooks]
            for delivery, outcome in zip(
                hooks, await self.transports.webhook.send(bodies), strict=True
            ):
                outcomes[delivery.id] = outcome
        return outcomes

    def _record(
        self,
        delivery: NoticeDelivery,
        outcome: Outcome,
        now: datetime,
        result: PassResult,
        context: NoticeContext,
    ) -> None:
        delivery.attempts += 1
        delivery.lease_until = None
        if outcome.delivered:
            delivery.state = DeliveryState.DELIVERED.value
            delivery.delivered_at = now
            delivery.last_error = None
            result.delivered += 1
        else:
            delivery.last_error = outcome.reason
            first = delivery.created_at or now
            exhausted = delivery.attempts >= MIN_ATTEMPTS and now - first >= RETRY_FOR
            if outcome.permanent or exhausted:
                delivery.state = DeliveryState.FAILED.value
                result.failed += 1
            else:
                delivery.state = DeliveryState.QUEUED.value
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
                result.retried += 1
                return
            logger.warning(
                "notice %s to %s failed: %s", delivery.id, delivery.channel, outcome.reason
            )
        if context.notice.kind == NoticeKind.INVITATION.value:
            notice = context.notice
            result.changed.setdefault(notice.meeting_id, set()).add(notice.point_id)


async def record_due_reminders(session: DbSession, now: datetime) -> int:
    """Record the reminders due now for every scheduled meeting: for its current start, the
    nearest of its leads already reached, to every point invited by notice before that lead
    began."""
    horizon = now + REMINDER_HORIZON
    meetings = list(
        await session.scalars(
            select(Meeting).where(
                Meeting.status == MeetingStatus.SCHEDULED.value,
                Meeting.starts_at > now,
                Meeting.starts_at <= horizon,
            )
        )
    )
    recorded = 0
    for meeting in meetings:
        leads = leads_of(meeting.reminder_minutes)
        reached = [lead for lead in leads if meeting.starts_at - lead <= now]
        if not reached:
            continue
        lead = min(reached)
        since = meeting.starts_at - lead
        invited = (
            select(Notice.point_id)
            .join(
                Invitation,
                (Invitation.meeting_id == Notice.meeting_id)
                & (Invitation.point_id == Notice.point_id),
            )
            .where(
                Notice.meeting_id == meeting.id,
                Notice.kind == NoticeKind.INVITATION.value,
                Notice.created_at < since,
            )
            .distinct()
        )
        points = list(await session.scalars(invited))
        if not points:
            continue
        start = meeting.starts_at.isoformat()
        minutes = int(lead.total_seconds() // 60)
        keys = {p: f"reminder:{meeting.id}:{p}:{minutes}:{start}" for p in points}
        payload = {"lead_minutes": minutes, "starts_at": start}
        recorded += await recording.record(
            session, meeting, points, NoticeKind.REMINDER, payload, dedupe=keys
        )
    return recorded
