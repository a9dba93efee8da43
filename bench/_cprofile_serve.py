"""`confhub serve` under cProfile, timed by the thread's CPU clock (bench/connect_rate.py's
`--cprofile`): SIGUSR1 starts profiling, SIGUSR2 stops it and writes the statistics to the file
named by the first argument. The rest of the arguments are `confhub`'s. CPU time, not wall
time: on a shared machine py-spy's samples also count the moments the process waits for a core
(after each write that wakes PostgreSQL or Redis, most of all)."""

from __future__ import annotations

import cProfile
import signal
import sys
import time
from types import FrameType

from confhub.cli import main

output = sys.argv[1]
profile = cProfile.Profile(time.thread_time)


def start(_signum: int, _frame: FrameType | None) -> None:
    """Begin counting."""
    profile.enable()


def stop(_signum: int, _frame: FrameType | None) -> None:
    """Stop counting and write the statistics."""
    profile.disable()
    profile.dump_stats(output)


signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
sys.argv = ["confhub", *sys.argv[2:]]
sys.exit(main())
