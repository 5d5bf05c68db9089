"""Issue 13: every bad path for `funnel export` is one line and exit 1; a folder, with or
without a trailing slash, gets the default file name inside it; `x` on the board writes into
the export folder (the `export_dir` setting, else the documents folder) and says where."""

from __future__ import annotations

import os
import stat

import pytest


@pytest.fixture
def one_deal(store, now):
    store.add_deal({"customer": "华信科技", "amount": "12万"}, now=now)


def one_line_refusal(funnel, *argv):
    code, out, err = funnel(*argv)
    assert code == 1, (out, err)
    assert err.startswith("funnel: export: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_a_file_where_a_folder_must_be(funnel, one_deal, tmp_path):
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    err = one_line_refusal(funnel, "export", str(afile / "deals.csv"))  # NotADirectoryError before
    assert f"{afile} is a file, not a folder" in err
    err = one_line_refusal(funnel, "export", str(afile / "sub" / "deals.csv"))  # FileExistsError before
    assert f"{afile} is a file, not a folder" in err
    err = one_line_refusal(funnel, "export", str(afile) + "/")  # a folder was meant
    assert "is a file, not a folder" in err
    assert afile.read_text() == "x"


def test_a_device_or_an_unwritable_folder(funnel, one_deal, tmp_path):
    assert "is not a regular file" in one_line_refusal(funnel, "export", "/dev/null")
    err = one_line_refusal(funnel, "export", str(tmp_path / ("x" * 300 + ".csv")))
    assert "File name too long" in err
    if os.path.isdir("/proc/self"):  # a folder no one may create files in, root included
        assert "cannot write /proc/deals.csv" in one_line_refusal(funnel, "export", "/proc/deals.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions do not refuse")
        err = one_line_refusal(funnel, "export", str(locked / "deals.csv"))
        assert "cannot write" in err and "Permission denied" in err
        assert list(locked.iterdir()) == []
    finally:
        os.chmod(locked, stat.S_IRWXU)


@pytest.mark.parametrize("slash", ["", "/"])
def test_an_existing_folder_gets_the_default_name_inside(funnel, one_deal, tmp_path, slash):
    folder = tmp_path / "exports"
    folder.mkdir()
    code, out, err = funnel("export", str(folder) + slash)
    assert code == 0, err
    [written] = folder.iterdir()
    assert written.name == "funnel-deals-20261124-100000.csv"
    assert str(written) in out


def test_a_new_folder_with_a_trailing_slash_is_made_not_a_file(funnel, one_deal, tmp_path):
    code, out, err = funnel("export", str(tmp_path / "new" / "exports") + "/")
    assert code == 0, err
    folder = tmp_path / "new" / "exports"
    assert folder.is_dir() and [p.name for p in folder.iterdir()] == ["funnel-deals-20261124-100000.csv"]


def test_settings_export_dir(funnel, tmp_path):
    afile = tmp_path / "f"
    afile.write_text("")
    code, _, err = funnel("settings", "export_dir", str(afile))
    assert code == 1 and "is not a folder" in err
    code, out, err = funnel("settings", "export_dir", str(tmp_path / "out"))
    assert code == 0 and out.strip() == f"export_dir = {tmp_path / 'out'}"
    from funnel_tui import config

    assert config.get("export_dir") == str(tmp_path / "out")  # the rep's, not the database's


def test_export_dir_default_is_the_documents_folder(tmp_path, monkeypatch):
    from funnel_tui import paths

    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "Docs"))
    assert paths.export_dir(None) == tmp_path / "Docs"
    assert paths.export_dir("~/x") == paths.export_dir("~/x").expanduser()
