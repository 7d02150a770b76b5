"""Process bookkeeping shared by the database servers cosmo starts (FalkorDB, Neo4j).

A server is named by its pid file; a pid counts as *ours* only while ``/proc/<pid>/cmdline``
still carries the markers given (the binary's name and our configuration path), so a stale
pid file whose number was reused by another process is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["is_ours", "log_tail", "read_pid", "terminate"]


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None


def is_ours(pid: int, need: str, any_of: Sequence[str] = ()) -> bool:
    """True when ``pid`` lives, its command line holds ``need`` and one of ``any_of``."""
    cmd = _cmdline(pid)
    if cmd is None:
        if Path("/proc/self").exists():
            return False
        try:  # no /proc (macOS): trust the pid file while the process lives
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    return need in cmd and (not any_of or any(m in cmd for m in any_of))


def read_pid(pid_file: Path, need: str, any_of: Sequence[str] = ()) -> int | None:
    """The pid in ``pid_file`` when that process is still ours, else None."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if is_ours(pid, need, any_of) else None


def terminate(pid: int, need: str, any_of: Sequence[str] = (), timeout: float = 30.0) -> None:
    """SIGTERM ``pid`` (a clean shutdown), then SIGKILL if it is still ours after ``timeout``."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not is_ours(pid, need, any_of):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def log_tail(path: Path, n: int = 15) -> str:
    """The last ``n`` lines of a log file, or ``(no log)``."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"
