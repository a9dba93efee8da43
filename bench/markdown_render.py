"""Benchmark of hostile Markdown: what rendering it costs, and what a process's other users feel
while it is shown or previewed.

Renders (in this process, CPU time of the rendering thread, best of N): each pathological input
through the renderer of the code before the bounds (git `--baseline`, default 34318f5) at
199,000 characters (the old limit was 200,000), and through today's bounded renderer: at
100,000 characters (the limit), and at the longest length of it that the bounds accept.

Servers (one `confhub serve`, SQLite, for the baseline code and for today's): a published
province article whose body is the security check's 199,000 `[` (written before any bound, so
on today's code it is an existing row whose HTML migration 0008 rendered). Five anonymous
readers ask for its page as fast as it answers, then five signed-in editors ask for previews of
the worst text each code accepts, while one client asks `/healthz` every 10 ms (standing in for
every other request and live socket of the process).

It prints the command that reproduces it and writes its section of docs/performance.md.
Run: `.venv/bin/python bench/markdown_render.py` (`--help` for the options).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import shlex
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any

import _rollcall_setup as setup
from _markdown_load import Load, format_load_row, load_round, prepare
from _report import replace_section

from confhub.core.errors import InvalidInputError
from confhub.news.markdown import MAX_MARKDOWN_LENGTH, render_bounded

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.integration.news.long_minutes import long_minutes  # noqa: E402

SECTION = "## Hostile Markdown (bench/markdown_render.py)"
OLD_LENGTH = 199_000
TABLE = None  # stands for a table of empty cells: header, delimiter row, rows of `|`
# Each input is one unit repeated to the length measured: what makes markdown-it-py work hardest
# per character (links, images, emphasis, nesting, cells) and what fills the output (entities).
PATTERNS: dict[str, str | None] = {
    "`[` (the security check's)": "[",
    "`![`": "![",
    "`*[`": "*[",
    "`[*`": "[*",
    "`[a][`": "[a][",
    "`[a](`": "[a](",
    "`x*y* [`": "x*y* [",
    "`**a`": "**a",
    "`_a`": "_a",
    "`~~a`": "~~a",
    "`` `a ``": "`a ",
    "`<a`": "<a",
    "`<div>` (nested raw HTML)": "<div>",
    "`<b>x</b>` (raw HTML tags)": "<b>x</b>",
    "`<!--` (comments)": "<!--",
    "`&`": "&",
    "`\\*` (escapes)": "\\*",
    "`a⏎` (line breaks)": "a\n",
    "`- ` × 9 (nested lists)": "- " * 9 + "a\n",
    "`> ` × 19 (nested quotes)": "> " * 19 + "a\n",
    "`# a⏎` (headings)": "# a\n",
    "`[x]: y⏎` (definitions)": "[x]: y\n",
    "`|` (empty table cells)": TABLE,
    '`"` (quotes)': '"',
    "`8:30 95% -` (text)": "8:30 95% - ",
}


def text_of(unit: str | None, length: int) -> str:
    """`unit` repeated to `length` characters (a table of empty cells for TABLE)."""
    if unit is None:
        row = "|" * 100 + "\n"
        head = row + "|" + "-|" * 99 + "\n"
        return (head + row * (length // len(row) + 1))[:length]
    return (unit * (length // len(unit) + 1))[:length]


def baseline_markdown(ref: str) -> ModuleType:
    """confhub.news.markdown as it was at `ref` (its imports are third-party only)."""
    source = subprocess.run(  # noqa: S603
        ["git", "-C", str(REPO), "show", f"{ref}:src/confhub/news/markdown.py"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="confhub-baseline-md-"))
    path = folder / "baseline_markdown.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("baseline_markdown", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_ms(work: Callable[[str], Any], text: str, repeat: int) -> float:
    """The best CPU time (this thread's) of `repeat` runs of `work(text)`, in ms."""
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        work(text)
        best = min(best, time.thread_time() - started)
    return best * 1000


def render_saved(text: str) -> str:
    """What a save stores for `text` (today's bounded renderer)."""
    return str(render_bounded(text, "markdown"))


def accepted(text: str) -> bool:
    """Whether today's bounds accept `text`."""
    try:
        render_bounded(text, "markdown")
    except InvalidInputError:
        return False
    return True


def longest_accepted(unit: str | None, padding: str = "") -> int:
    """The longest length of the input the bounds accept after `padding` (they refuse longer
    ones)."""
    low, high = 0, MAX_MARKDOWN_LENGTH - len(padding)
    while low < high:
        middle = (low + high + 1) // 2
        if accepted(padding + text_of(unit, middle)):
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class RenderRow:
    """One input's numbers."""

    name: str
    before_ms: float | None
    at_limit_ms: float
    at_limit_refused: bool
    longest: int
    longest_ms: float
    worst_text: str  # the longest accepted


def render_rows(old: ModuleType, repeat: int) -> list[RenderRow]:
    """Each input before and after; the long real minutes too."""
    rows = []
    for name, unit in PATTERNS.items():
        before = text_of(unit, OLD_LENGTH)
        at_limit = text_of(unit, MAX_MARKDOWN_LENGTH)
        longest = longest_accepted(unit)
        worst = text_of(unit, longest)
        row = RenderRow(
            name,
            cpu_ms(old.render_markdown, before, max(1, repeat // 3)),
            cpu_ms(accepted, at_limit, repeat),
            not accepted(at_limit),
            longest,
            cpu_ms(render_saved, worst, repeat),
            worst,
        )
        rows.append(row)
        print(format_render_row(row), flush=True)
    rows.append(mixed_row(rows, repeat))
    for length in (28_000, 45_000):
        real = long_minutes(length)
        row = RenderRow(
            f"long real minutes ({len(real):,} characters)",
            cpu_ms(old.render_markdown, real, repeat),
            cpu_ms(render_saved, real, repeat),
            False,
            len(real),
            cpu_ms(render_saved, real, repeat),
            real,
        )
        rows.append(row)
        print(format_render_row(row), flush=True)
    return rows


def mixed_row(rows: list[RenderRow], repeat: int) -> RenderRow:
    """The worst of both kinds of cost: quotes (which cost nh3 time by the character, not the
    parser's steps) up to the limit, ending with as much of the costliest input per step as the
    bounds then accept."""
    slowest = max(rows, key=lambda row: row.longest_ms / max(1, row.longest))
    padding = '"' * (MAX_MARKDOWN_LENGTH - slowest.longest)
    length = longest_accepted(PATTERNS[slowest.name], padding)
    text = padding + text_of(PATTERNS[slowest.name], length)
    row = RenderRow(
        f'`"` then {slowest.name}',
        None,
        cpu_ms(accepted, text, repeat),
        not accepted(text),
        len(text),
        cpu_ms(render_saved, text, repeat),
        text,
    )
    print(format_render_row(row), flush=True)
    return row


def format_render_row(row: RenderRow) -> str:
    """One row of the render table."""
    limit = f"{row.at_limit_ms:,.1f}"
    if row.at_limit_refused:
        limit = f"refused in {limit}"
    before = "—" if row.before_ms is None else f"{row.before_ms:,.0f}"
    return f"| {row.name} | {before} | {limit} | {row.longest:,} | **{row.longest_ms:,.1f}** |"


# --- the servers ---------------------------------------------------------------------------


def baseline_tree(ref: str, folder: Path) -> Path:
    """The code at `ref` (its templates and static files beside it, where it looks for them),
    extracted to `folder`; the `src` to put on PYTHONPATH."""
    archive = subprocess.run(  # noqa: S603
        ["git", "-C", str(REPO), "archive", ref, "src", "templates", "static"],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def serve_rounds(
    label: str, code: Path | None, preview_text: str, args: argparse.Namespace
) -> list[Load]:
    """Set up a database for `code` (None: today's), serve it, run the two rounds."""
    with tempfile.TemporaryDirectory(prefix="confhub-markdown-") as tmp:
        folder = Path(tmp)
        env = setup.base_env(folder, f"sqlite+aiosqlite:///{folder / 'bench.db'}", None)
        env["CONFHUB_DEFAULT_PROVINCE"] = "38"
        if code is not None:
            env["PYTHONPATH"] = str(code)
        editors = prepare(env, folder / "bench.db", today=code is None, editors=args.readers)
        port = setup.free_port()
        server = setup.start_confhub(env, port, folder / "serve.log")
        rounds = []
        try:
            setup.wait_ready(port, server, http=True)
            base = f"http://127.0.0.1:{port}"
            for name, passwords, text in (
                (None, None, None),
                ("page views", None, None),
                ("previews", editors, preview_text),
            ):
                logged = (folder / "serve.log").stat().st_size
                load = asyncio.run(load_round(base, label, name, args, passwords, text))
                with (folder / "serve.log").open("rb") as log:
                    log.seek(logged)
                    errors = log.read().count(b"unhandled error")
                rounds.append(replace(load, server_errors=errors))
                print(format_load_row(rounds[-1]), flush=True)
        finally:
            setup.stop(server)
    return rounds


def section(command: str, renders: list[RenderRow], loads: list[Load], ref: str) -> str:
    """This benchmark's section of docs/performance.md."""
    return "\n".join(
        [
            SECTION,
            "",
            f"`{command}` — {datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs ({platform.machine()}), server and clients on the same "
            "machine.",
            "",
            f"CPU time of one render (markdown-it-py, then nh3), best of several, in ms. *Before*: "
            f"the renderer at {ref}, on {OLD_LENGTH:,} characters (the old limit was 200,000). "
            f"*At the limit*: today's bounded renderer on {MAX_MARKDOWN_LENGTH:,} characters. "
            "*Longest accepted*: the longest length of the input today's bounds accept, and "
            "what rendering it costs: the worst a save or a preview can make the render thread "
            "do.",
            "",
            "| input | before | at the limit | longest accepted (characters) | its render |",
            "| --- | ---: | ---: | ---: | ---: |",
            *(format_render_row(row) for row in renders),
            "",
            "One `confhub serve` process (SQLite) with a published article whose body is 199,000 "
            "`[`; five anonymous readers ask for its page as fast as it answers, then five "
            "signed-in editors ask for previews (before: the 199,000 `[`; today: the accepted "
            "input with the slowest render above), while one client asks `/healthz` every 10 ms. "
            "Wall-clock milliseconds.",
            "",
            "| code | round | answers per second (by status) | their p50 / max | /healthz "
            "answers | /healthz p50 / p99 / max | server errors | load average |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            *(format_load_row(load) for load in loads),
            "",
            "- Before, every view of the article rendered its body on the event loop: the "
            "process answered a view every few seconds and `/healthz` (every other request and "
            "live socket) waited as long. The server errors are SQLite's `database is locked`: "
            "a request holding the write lock (each view adds to the day's visit count) could "
            "not commit while a render held the loop, and the others gave up waiting.",
            "- Today a view reads the HTML stored when the text was saved (`article.body_html`, "
            "filled for existing rows by migration 0008) and never renders. Its slowest answers "
            "wait for SQLite's write lock for that visit count, not for the CPU: `/healthz` "
            "answers meanwhile, and the same round with a crawler's User-Agent (not counted) "
            "saw no view slower than 144 ms (2026-12-07).",
            "- Today's previews render in the process's one render thread, within the bounds "
            "(the worst accepted text above), one at a time: the editors queue there while the "
            "event loop goes on. Each editor may ask 10 at once, then 2 a second (429 with "
            "`Retry-After` beyond).",
            "- The load average is the whole machine's: other work shared its two CPUs, so "
            "wall-clock numbers are higher than an idle machine's; the render table is CPU time.",
            "",
        ]
    )


def main() -> None:
    """Measure the renders, then the servers; print the tables and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="34318f5", help="git ref of the code before")
    parser.add_argument("--repeat", type=int, default=5, help="renders per measurement")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of a server round")
    parser.add_argument("--readers", type=int, default=5, help="readers (and editors) at once")
    parser.add_argument("--no-servers", action="store_true", help="only the renders")
    parser.add_argument("--no-report", action="store_true", help="do not write the report")
    args = parser.parse_args()
    command = shlex.join([".venv/bin/python", "bench/markdown_render.py", *sys.argv[1:]])
    old = baseline_markdown(args.baseline)
    renders = render_rows(old, args.repeat)
    worst_text = max(renders, key=lambda row: row.longest_ms).worst_text
    loads: list[Load] = []
    if not args.no_servers:
        with tempfile.TemporaryDirectory(prefix="confhub-baseline-") as tmp:
            code = baseline_tree(args.baseline, Path(tmp))
            loads += serve_rounds(f"before ({args.baseline})", code, "[" * OLD_LENGTH, args)
        loads += serve_rounds("today", None, worst_text, args)
    print(f"Reproduce with: {command}")
    if not args.no_report:
        replace_section(SECTION, section(command, renders, loads, args.baseline))


if __name__ == "__main__":
    main()
