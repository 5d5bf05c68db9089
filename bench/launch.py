"""Run one command and report its wall time and peak RSS: `python -m bench.launch OUT -- ARGV`.

Why a launcher: on Linux a child's ru_maxrss starts from its parent's high-water mark at
fork time, so children forked straight from the bench (which has held seeded rows) would
report the bench's memory. This small fresh process forks the measured command instead;
its own ~10 MiB is the floor of what it can report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> int:
    out, sep, *argv = sys.argv[1:]
    assert sep == "--" and argv
    t0 = time.monotonic()
    proc = subprocess.Popen(argv)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"seconds": seconds, "maxrss_kib": usage.ru_maxrss, "returncode": proc.returncode}, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
