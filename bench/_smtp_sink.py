"""A local SMTP server for bench/notices.py, in a process of its own: it takes every message
and, when its standard input closes, prints one JSON line: how many messages arrived, how many
distinct Message-IDs, and how many recipients."""

from __future__ import annotations

import json
import sys
import threading
from email.parser import BytesHeaderParser
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    """Counts messages by Message-ID."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages = 0
        self.ids: set[str] = set()
        self.recipients: set[str] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        headers = BytesHeaderParser().parsebytes(envelope.content)
        with self.lock:
            self.messages += 1
            self.ids.add(str(headers["Message-ID"]))
            self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def main() -> None:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(
        json.dumps(
            {"messages": sink.messages, "ids": len(sink.ids), "recipients": len(sink.recipients)}
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
