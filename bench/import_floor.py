"""The import's floor: only the writer's work for a CSV, as a process of its own.

    python -m bench.import_floor CSV DB     prints {"rows": N, "seconds": S} as JSON

Reads and validates CSV exactly as `funnel import` does and stages every chunk first, in
the import's own chunks of importer.BATCH rows (not timed); then times the writer alone on
those chunks: one BEGIN IMMEDIATE
transaction, the index drop, every INSERT … SELECT, the index rebuild and the commit
(synchronous=FULL). What is left of `funnel import` beyond this is process start,
reading and validating: `import rows/s ÷ floor rows/s` says how close to the floor it is.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path


def main(argv: list[str]) -> int:
    csv_path, db = Path(argv[0]), Path(argv[1])
    from funnel_tui.exchange.import_chunks import read_chunks
    from funnel_tui.exchange.import_rows import RowParser
    from funnel_tui.exchange.importer import BATCH, ImportOptions, plan_file
    from funnel_tui.store import Store
    from funnel_tui.store.bulk_import import DealImporter

    gc.disable()  # as import_file does
    now = datetime.now(timezone.utc)
    store = Store(db)
    with plan_file(store, csv_path, ImportOptions(saved=()), tz=timezone.utc) as plan:
        parser = RowParser(plan, store.stages(), now, timezone.utc)
        chunks = [c for c in read_chunks(plan.table.records, parser, parser.given, staged=True, batch=BATCH,
                                         estimate=lambda n: 0) if c.staged is not None]
    rows = sum(len(c.staged) for c in chunks)
    started = time.perf_counter()
    with DealImporter(store, now=now, staged=True) as importer:
        importer.expect(rows)
        for chunk in chunks:
            importer.add_staged(chunk.staged, reparse=None)
    seconds = time.perf_counter() - started
    store.close()
    print(json.dumps({"rows": rows, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
