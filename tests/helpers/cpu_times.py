"""Where the suite's processor time goes, test by test: an opt-in pytest plugin.

`--durations` shows wall time, which on a shared machine says as much about the neighbours as
about the test. This plugin records, for each phase of each test (setup, call, teardown), the
processor time of the worker itself and of the child processes it reaped meanwhile (served
`confhub` processes, the command, nginx, Chromium: counted when they are stopped), and writes
one tab-separated line per phase to `$CONFHUB_CPU_TIMES` (a file per worker: the path gets the
worker's id appended). Use:

    CONFHUB_CPU_TIMES=/tmp/cpu .venv/bin/python -m pytest -n 2 -p tests.helpers.cpu_times
    sort -t$'\\t' -k4 -rn /tmp/cpu.* | head -40

docs/performance.md ("The test suite") shows what it found.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _out(config: pytest.Config) -> Path | None:
    base = os.environ.get("CONFHUB_CPU_TIMES")
    if not base:
        return None
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    return Path(f"{base}.{worker}")


def _record(item: pytest.Item, phase: str) -> Iterator[None]:
    out = _out(item.config)
    wall, (own, children) = time.monotonic(), _cpu()
    yield
    if out is None:
        return
    own_after, children_after = _cpu()
    with out.open("a", encoding="utf-8") as file:
        file.write(
            f"{item.nodeid}\t{phase}\t{time.monotonic() - wall:.3f}\t"
            f"{own_after - own + children_after - children:.3f}\t"
            f"{own_after - own:.3f}\t{children_after - children:.3f}\n"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[Any]:
    """Setup's share (fixtures, including servers and templates)."""
    recorder = _record(item, "setup")
    next(recorder)
    try:
        return (yield)
    finally:
        next(recorder, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[Any]:
    """The test's own body."""
    recorder = _record(item, "call")
    next(recorder)
    try:
        return (yield)
    finally:
        next(recorder, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[Any]:
    """Teardown's share (stopping and reaping what setup started)."""
    recorder = _record(item, "teardown")
    next(recorder)
    try:
        return (yield)
    finally:
        next(recorder, None)
