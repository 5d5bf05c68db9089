"""Where a `funnel import` spends its time: one real import, with marks on its way.

    python -m bench.import_timeline CSV [DB]     (DB: a new file in a temp folder by default)

Runs `funnel --db DB import CSV` in a process of its own, wrapped to note the time at each
step: the reader forked (import_early), the store open (import_file called), the first and
last chunk written, the indexes rebuilt, the commit, the end of the command and the process's
exit, each from just before the process started. Then the CPU of the process and of its
reader child. For reading the budget of issue 19 (`import ≥ 0.75× the writer floor`): what
lies before the writer's first chunk and after its commit is the import's own overhead.
Diagnostic only: `make bench` measures without these wrappers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_WRAPPER = r'''
import atexit, os, sys, time
T0 = float(os.environ["TIMELINE_T0"])
marks = []
def mark(what):
    marks.append((time.time() - T0, what))
mark("python up")
import funnel_tui.exchange.import_early as ie
from funnel_tui.exchange import importer as imp
_start, _import_file = ie.start, imp.import_file
def start(*a, **k):
    r = _start(*a, **k)
    mark("reader forked (before the store)" if r else "no early reader")
    return r
def import_file(*a, **k):
    mark("store open: import_file called")
    from funnel_tui.store.bulk_import import DealImporter as D
    enter, leave, add, rebuild = D.__enter__, D.__exit__, D.add_staged, D._rebuild_indexes
    n = [0]
    def add_(self, *a, **k):
        n[0] += 1
        if n[0] == 1:
            mark("first chunk to write")
        return add(self, *a, **k)
    def leave_(self, *a):
        mark(f"last chunk written ({n[0]} chunks)")
        r = leave(self, *a)
        mark("committed")
        return r
    def rebuild_(self):
        rebuild(self)
        mark("indexes rebuilt")
    D.__exit__, D.add_staged, D._rebuild_indexes = leave_, add_, rebuild_
    r = _import_file(*a, **k)
    mark("import_file returned")
    return r
ie.start, imp.import_file = start, import_file
def report():
    mark("atexit (the command is done)")
    c = os.times()
    for t, what in marks:
        print(f"{t:8.3f} s  {what}", file=sys.stderr)
    print(f"cpu: this process {c.user + c.system:.2f} s, its reader {c.children_user + c.children_system:.2f} s",
          file=sys.stderr)
atexit.register(report)
from funnel_tui.cli import main
sys.argv = ["funnel", *sys.argv[1:]]
sys.exit(main())
'''


def main(argv: list[str]) -> int:
    from bench.procs import bench_env

    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    csv_path = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(argv[1]) if len(argv) > 1 else Path(tmp) / "timeline.db"
        env = {**bench_env(), "TIMELINE_T0": repr(time.time())}
        done = subprocess.run([sys.executable, "-c", _WRAPPER, "--db", str(db), "import", str(csv_path)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        ended = time.time() - float(env["TIMELINE_T0"])
    sys.stderr.write(done.stderr)
    print(f"{ended:8.3f} s  the process has exited (exit {done.returncode})", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
