"""docs/performance.md: every benchmark in bench/ rewrites its own section and keeps the others."""

from __future__ import annotations

from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
INTRO = (
    "# Performance\n\nNumbers measured by the scripts in `bench/`, each of which prints the "
    "command that reproduces it and rewrites its own section below.\n"
)


def replace_section(title: str, text: str) -> None:
    """Replace (or add at the end) the section headed `title` with `text`."""
    current = REPORT.read_text(encoding="utf-8") if REPORT.exists() else INTRO
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == title), None)
    if start is None:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        updated = "".join(lines[:start]) + text + ("\n" + tail if tail else "")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(updated, encoding="utf-8")
