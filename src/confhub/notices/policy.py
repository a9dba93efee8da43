"""What the settings decide about notices, handed to every session by the app (`session.info`),
so the receivers of the meetings' signals know which channels to record without reading the
environment themselves."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from confhub.db import DbSession
from confhub.notices.models import Channel
from confhub.settings import Settings, get_settings

SESSION_INFO_KEY = "confhub_notice_policy"


@dataclass(frozen=True)
class NoticePolicy:
    """The channels in use and the addresses notices are made of."""

    base_url: str
    timezone: str
    mail_from: str
    smtp_configured: bool
    webhook_configured: bool

    @classmethod
    def of(cls, settings: Settings) -> NoticePolicy:
        """The policy of a configuration."""
        return cls(
            base_url=settings.base_url.rstrip("/"),
            timezone=settings.timezone,
            mail_from=settings.mail_from,
            smtp_configured=settings.smtp_url is not None,
            webhook_configured=settings.notify_webhook_url is not None,
        )

    @property
    def host(self) -> str:
        """The host name Message-IDs end with."""
        return urlsplit(self.base_url).hostname or "confhub"

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The channels a notice is recorded on: the webhook when one is configured, e-mail
        when an SMTP server is, and e-mail kept on the outbox page when neither is (the embedded
        default: each message shown as it would be sent). A webhook-only province records no
        e-mail that could never leave and would keep its points `queued`."""
        channels = []
        if self.smtp_configured or not self.webhook_configured:
            channels.append(Channel.EMAIL)
        if self.webhook_configured:
            channels.append(Channel.WEBHOOK)
        return tuple(channels)


def policy_of(session: DbSession) -> NoticePolicy:
    """The app's policy from the session, or (the command line) the environment's."""
    policy = session.info.get(SESSION_INFO_KEY)
    if isinstance(policy, NoticePolicy):
        return policy
    return NoticePolicy.of(get_settings())
