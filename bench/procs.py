"""Running processes for the bench: wall time, peak RSS, and first frame in a real pty.

Peak RSS comes from `os.wait4` (ru_maxrss of the finished child, KiB on Linux), so the
figure is the child's own high-water mark, never the bench's.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    seconds: float
    maxrss_kib: int
    returncode: int
    output: bytes = b""
    stdout: bytes = b""


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of every measured process: pinned clock, private data dirs."""
    from bench.seed import FUNNEL_NOW, OUT

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["FUNNEL_NOW"] = FUNNEL_NOW
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(OUT / "xdg" / var.lower())
    env.pop("FUNNEL_DB", None)
    env.pop("TEXTUAL", None)  # no devtools
    env.update(extra)
    return env


def _reap(proc: subprocess.Popen, *, block: bool) -> bool:
    """Reap the child with wait4 (never Popen.wait/poll, which would lose its rusage)."""
    if proc.returncode is not None:
        return True
    pid, status, usage = os.wait4(proc.pid, 0 if block else os.WNOHANG)
    if pid == 0:
        return False
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.maxrss_kib = usage.ru_maxrss  # type: ignore[attr-defined]
    return True


def timed(argv: list[str], *, env: dict[str, str], timeout: float = 900.0,
          capture_stdout: bool = False) -> Run:
    """Wall time of a whole process (start to exit), its peak RSS and its stderr tail.

    Run through bench.launch (see there why); the time is taken inside the launcher,
    from just before the fork to the reaping of the child. stdout goes to /dev/null
    unless captured.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as report:
        proc = subprocess.Popen([sys.executable, "-m", "bench.launch", report.name, "--", *argv],
                                stdin=subprocess.DEVNULL,
                                stdout=out if capture_stdout else subprocess.DEVNULL,
                                stderr=err, env=env, cwd=ROOT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        result = json.loads(open(report.name, encoding="utf-8").read() or "{}")
        out.seek(0)
        err.seek(0)
        if not result:
            return Run(float("nan"), 0, proc.returncode, err.read()[-2000:], out.read())
        return Run(result["seconds"], result["maxrss_kib"], result["returncode"],
                   err.read()[-2000:], out.read())


def vm_hwm_kib(pid: int) -> int:
    """Peak RSS of a running process's current image (VmHWM; reset by exec)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def first_frame(argv: list[str], ready: re.Pattern[bytes], *, env: dict[str, str],
                cols: int = 160, rows: int = 48, timeout: float = 120.0,
                quiet: float = 1.0, settle_max: float = 20.0) -> Run:
    """Start `argv` on a real pseudo-terminal; seconds from process start to the first
    output that matches `ready` (text inside a rendered frame).

    Then let it finish its background work (until the screen has been quiet for `quiet`
    seconds, at most `settle_max`), end it, and report its peak RSS over the whole run.
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**env, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    buf = bytearray()
    seen = None
    last = t0
    deadline = t0 + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(master, 1 << 16)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                buf += chunk
                last = time.monotonic()
                if seen is None and ready.search(buf):
                    seen = last
                    deadline = min(deadline, seen + settle_max)
                if seen is None and len(buf) > 1 << 20:
                    del buf[: len(buf) - (1 << 16)]
            elif seen is not None and time.monotonic() - last >= quiet:
                break
            elif _reap(proc, block=False):
                break
        hwm = vm_hwm_kib(proc.pid)
        if not _reap(proc, block=False):
            os.killpg(proc.pid, signal.SIGTERM)
            _drain(master, proc, 3.0)
        if not _reap(proc, block=False):
            os.killpg(proc.pid, signal.SIGKILL)
    finally:
        _reap(proc, block=True)
        os.close(master)
    # Not ru_maxrss: a child's starts from the bench's own high-water mark (see launch).
    if seen is None:
        return Run(float("nan"), hwm, proc.returncode, bytes(buf[-3000:]))
    return Run(seen - t0, hwm, proc.returncode, b"")


def _drain(master: int, proc: subprocess.Popen, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not _reap(proc, block=False):
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                if not os.read(master, 1 << 16):
                    return
            except OSError:
                return
