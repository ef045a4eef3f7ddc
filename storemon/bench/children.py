"""Each workload as its own process, as a user runs it: its wall time and its peak memory
(the child's maximum resident set, from wait4) are its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time

from storemon.errors import StoremonError


def free_port() -> int:
    """A port free on 127.0.0.1 now, for a child server to listen on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def storemon(*args: str) -> list[str]:
    return [sys.executable, "-m", "storemon", *args]


def run_child(command: list[str]) -> tuple[float, int, str]:
    """Run a command to its end: (wall seconds, peak RSS in bytes, stdout). Fails loudly."""
    # Output goes to files, not pipes: Popen.communicate() would reap the child itself, and
    # only wait4 says how much memory it used.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise StoremonError(f"bench: {' '.join(command)} failed:\n{err.read().strip()}")
        return seconds, usage.ru_maxrss * 1024, out.read()
