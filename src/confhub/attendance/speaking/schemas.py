"""What a speaking request and the secretariat's change of one look like on every door (the live
channel's `speak_request`, the JSON API, the check-in page's form), decoded once here so each is
refused with the same words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import Meta

from confhub.core.bodies import Body, first_refusal
from confhub.core.errors import InvalidInputError
from confhub.core.i18n import N_
from confhub.core.ids import IdField
from confhub.core.messages import Message
from confhub.core.text import Line, Text

MAX_REQUEST_ID = 100
MAX_TOPIC = 300
MAX_MINUTES = 60
MAX_SPEAKER = 200
MAX_REASON = 2000
# The furthest place a request can be moved to (a queue is never longer in a real meeting).
MAX_POSITION = 10_000

MUST_BE: dict[str, Message] = {
    "request_id": Message(N_("must be 1 to %(n)s characters"), {"n": MAX_REQUEST_ID}),
    "topic": Message(N_("must be one line of 1 to %(n)s characters"), {"n": MAX_TOPIC}),
    "minutes": Message(N_("a number of minutes from 1 to %(n)s is required"), {"n": MAX_MINUTES}),
    "point_id": Message(N_("must be the id of an invited connection point")),
    "speaker": Message(N_("must be one line of at most %(n)s characters"), {"n": MAX_SPEAKER}),
    "state": Message(N_("must be accepted, refused, speaking or done")),
    "position": Message(N_("must be a place from 1 to %(n)s"), {"n": MAX_POSITION}),
    "reason": Message(N_("must be text of at most %(n)s characters"), {"n": MAX_REASON}),
}


class SpeakRequestWrite(Body):
    """A point asks to speak: about what, for how many minutes, under an id of its client's
    choosing (a repeat of the id is answered with the first request)."""

    request_id: Annotated[str, Meta(min_length=1, max_length=MAX_REQUEST_ID), Line]
    topic: Annotated[str, Meta(min_length=1, max_length=MAX_TOPIC), Line]
    minutes: Annotated[int, Meta(ge=1, le=MAX_MINUTES)]
    # Needed only by a signed-in chair of several points (a link acts for its own point).
    point_id: IdField | None = None
    speaker: Annotated[str, Meta(max_length=MAX_SPEAKER), Line] | None = None

    def __post_init__(self) -> None:
        """Ids and texts kept stripped, names on one line."""
        self.request_id = self.request_id.strip()
        if not self.request_id:
            raise InvalidInputError("request_id", MUST_BE["request_id"])
        self.topic = " ".join(self.topic.split())
        if not self.topic:
            raise InvalidInputError("topic", MUST_BE["topic"])
        self.speaker = " ".join((self.speaker or "").split()) or None


class SpeakingChange(Body):
    """The secretariat's step on a request: accept, refuse (with a reason the point reads),
    give the floor, end it; and/or move it to another place among those waiting."""

    state: Literal["accepted", "refused", "speaking", "done"] | None = None
    position: Annotated[int, Meta(ge=1, le=MAX_POSITION)] | None = None
    reason: Annotated[str, Meta(max_length=MAX_REASON), Text] | None = None

    def __post_init__(self) -> None:
        """A change says what to do; a refusal says why."""
        self.reason = (self.reason or "").strip() or None
        if self.state is None and self.position is None:
            raise InvalidInputError("state", MUST_BE["state"])
        if self.state == "refused" and self.reason is None:
            raise InvalidInputError("reason", N_("say why the request is refused"))


S = TypeVar("S", SpeakRequestWrite, SpeakingChange)


def decode(fields: Mapping[str, Any], kind: type[S]) -> S:
    """`kind` from a live message's or a form's fields (numbers may come as text);
    `InvalidInputError` names the first field refused."""
    try:
        return msgspec.convert(fields, kind, strict=False)
    except msgspec.ValidationError:
        pass
    whole = ("speaking", N_("must be an object of the speaking request's fields"))
    raise first_refusal(fields, kind, MUST_BE, whole)
