"""A dry run's preview (the Import screen's "first rows, as they will be stored") lists only
rows the import would store: not a repeat of an earlier row, not a deal the database has."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from funnel_tui.exchange.importer import import_file

HEADER = ["external_id", "customer", "title", "stage", "amount"]


def _csv(path: Path, rows) -> Path:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([HEADER, *rows])
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


def test_the_preview_leaves_out_rows_that_would_not_be_stored(store, now, tz, tmp_path):
    import_file(store, _csv(tmp_path / "old.csv", [["crm:9", "已有客户", "旧单", "lead", "1"]]), now=now, tz=tz)
    src = _csv(tmp_path / "new.csv", [
        ["crm:1", "华信科技", "ERP", "lead", "100"],      # line 2: new
        ["crm:1", "华信科技", "ERP again", "lead", "100"],  # line 3: repeats line 2
        ["crm:9", "已有客户", "旧单", "lead", "1"],         # line 4: already deal 1
        ["", "蓝海物流", "WMS", "demo", "300"],            # line 5: new
        ["crm:2", "北辰医疗", "HIS", "qualified", "200"],   # line 6: new
    ])
    report = import_file(store, src, now=now, tz=tz, dry_run=True, reader="inline", preview=3)
    assert (report.inserted, report.duplicates) == (3, 2)
    assert [(row["line"], row["customer"]) for row in report.preview] == [
        (2, "华信科技"), (5, "蓝海物流"), (6, "北辰医疗")]
    assert report.preview[0]["amount"] == 10_000 and not report.preview[0].get("uid")  # copied before add()
    short = import_file(store, src, now=now, tz=tz, dry_run=True, reader="inline", preview=2)
    assert [row["line"] for row in short.preview] == [2, 5]
