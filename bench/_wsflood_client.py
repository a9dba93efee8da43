"""The flood of bench/ws_flood.py: many websocket handshakes at once to `/ws/meetings/{id}`, each
without a usable credential, from a process of its own.

Each socket is a plain TCP connection that sends the upgrade request and reads what the server
answers: an HTTP status (101 and then a close frame's code, or a refusal such as 429) or nothing
before it hangs up. The handshake is written by hand so the flood costs the load generator
little and every socket is exactly one request. With `--addresses distinct` each socket says
`X-Forwarded-For: 10.x.y.z` (a different address each; the server trusts 127.0.0.1 as its
proxy), as a flood from many machines arriving through nginx would look.

Prints one JSON object: how each socket ended, and how long the flood took.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import os
import resource
import secrets
import time

CLOSE_OPCODE = 0x8
TIMEOUT = 60.0


def request(path: str, port: int, number: int, args: argparse.Namespace) -> bytes:
    """The upgrade request of socket `number`."""
    headers = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
        f"X-Request-Id: {args.run_id}-{number:06d}",
    ]
    if args.addresses == "distinct":
        address = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
        headers.append(f"X-Forwarded-For: {address}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode()


def path_of(number: int, args: argparse.Namespace) -> str:
    """The socket's address: no credential, a malformed token, or a well-formed unknown one."""
    base = f"/ws/meetings/{args.meeting}"
    if args.kind == "none":
        return base
    if args.kind == "malformed":
        return f"{base}?token=not-a-token-{number}"
    return f"{base}?token={secrets.token_urlsafe(16)}"


async def read_close_code(reader: asyncio.StreamReader) -> str:
    """Frames after a 101 until the close frame: its code."""
    while True:
        head = await reader.readexactly(2)
        length = head[1] & 0x7F
        if length == 126:
            length = int.from_bytes(await reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await reader.readexactly(8), "big")
        payload = await reader.readexactly(length)
        if head[0] & 0x0F == CLOSE_OPCODE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            return f"101 then close {code}"


async def one(port: int, number: int, args: argparse.Namespace) -> str:
    """One socket, start to end: how it ended."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        return f"connect failed: {type(exc).__name__}"
    try:
        writer.write(request(path_of(number, args), port, number, args))
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1].decode()
        if status != "101":
            return f"HTTP {status}"
        return await read_close_code(reader)
    except (asyncio.IncompleteReadError, ConnectionError):
        return "hung up"
    finally:
        writer.close()


async def flood(args: argparse.Namespace) -> dict[str, object]:
    """All sockets at once (at most `--in-flight` open at a time)."""
    gate = asyncio.Semaphore(args.in_flight)

    async def limited(number: int) -> str:
        async with gate:
            try:
                return await asyncio.wait_for(one(args.port, number, args), TIMEOUT)
            except TimeoutError:
                return "timed out"

    started = time.monotonic()
    ended = await asyncio.gather(*(limited(n) for n in range(args.count)))
    return {
        "seconds": time.monotonic() - started,
        "outcomes": dict(collections.Counter(ended).most_common()),
    }


def main() -> None:
    """Run one flood and print its outcome as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--meeting", type=int, required=True)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=3000)
    parser.add_argument("--kind", choices=("none", "malformed", "unknown"), default="none")
    parser.add_argument("--addresses", choices=("one", "distinct"), default="distinct")
    parser.add_argument("--run-id", default="flood")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(json.dumps(asyncio.run(flood(args))), flush=True)


if __name__ == "__main__":
    main()
