"""Real filesystems for the safety tests of issue 12: a small tmpfs to fill, a read-only
bind mount, and `funnel` run as another user (nobody) so permissions apply (root ignores
them). Each helper skips its test with the reason when this machine cannot do it; CI runs
as root, where all of them work.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from helpers_procs import REPO, worker_env

NOBODY = 65534
FILLER = "filler.bin"


def _root_or_skip(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (mount, chown); CI runs as root (.ci/run)")


@contextlib.contextmanager
def tmpfs(size: str = "4m") -> Iterator[Path]:
    """A fresh tmpfs of `size`, world-traversable, unmounted afterwards."""
    _root_or_skip("a small tmpfs")
    where = Path(tempfile.mkdtemp(prefix="funnel-tmpfs-", dir="/tmp"))
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip()}); CI runs as root (.ci/run)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
        with contextlib.suppress(OSError):
            where.rmdir()


def fill(folder: Path, *, leave: int = 0) -> int:
    """Fill the filesystem of `folder`, then free about `leave` bytes; returns bytes free."""
    reserve = folder / ".reserve"
    if leave:
        fd = os.open(reserve, os.O_CREAT | os.O_WRONLY, 0o600)
        with contextlib.suppress(OSError):
            os.write(fd, b"r" * leave)
        os.close(fd)
    fd = os.open(folder / FILLER, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    block = b"x" * 65536
    try:
        while True:
            try:
                os.write(fd, block)
            except OSError:
                if len(block) == 1:
                    break
                block = block[: len(block) // 2]
    finally:
        os.close(fd)
    reserve.unlink(missing_ok=True)
    return free(folder)


def free(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def unfill(folder: Path) -> None:
    (folder / FILLER).unlink(missing_ok=True)


@contextlib.contextmanager
def read_only_view(folder: Path) -> Iterator[Path]:
    """`folder` bind-mounted read-only elsewhere: even root cannot write there (EROFS)."""
    _root_or_skip("a read-only bind mount")
    where = Path(tempfile.mkdtemp(prefix="funnel-ro-", dir="/tmp"))
    steps = [["mount", "--bind", str(folder), str(where)],
             ["mount", "-o", "remount,bind,ro", str(where)]]
    for step in steps:
        res = subprocess.run(step, capture_output=True, text=True)
        if res.returncode != 0:
            subprocess.run(["umount", str(where)], capture_output=True)
            where.rmdir()
            pytest.skip(f"cannot make a read-only bind mount here ({res.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
        with contextlib.suppress(OSError):
            where.rmdir()


# --- another user ------------------------------------------------------------------------------


def _python_for(uid: int) -> tuple[list[str], dict] | None:
    """An interpreter `uid` can run, with funnel and its dependencies importable."""
    site = sysconfig.get_paths()["purelib"]
    env_path = os.pathsep.join([str(REPO), site])
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, getattr(sys, "_base_executable", ""), shutil.which(version) or "",
                  f"/usr/bin/{version}", f"/usr/local/bin/{version}"]
    for py in dict.fromkeys(c for c in candidates if c):
        argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", py]
        try:
            res = subprocess.run([*argv, "-c", "import sqlmodel, rich, funnel_tui.cli"], capture_output=True,
                                 env={**worker_env(), "PYTHONPATH": env_path}, timeout=60, cwd="/")
        except (OSError, subprocess.SubprocessError):
            continue
        if res.returncode == 0:
            return argv, {"PYTHONPATH": env_path}
    return None


_FOUND: dict[int, tuple[list[str], dict] | None] = {}


def as_user(uid: int = NOBODY) -> tuple[list[str], dict]:
    """(argv prefix, env) that runs Python as `uid`; skips when no interpreter works for it."""
    _root_or_skip("running funnel as another user")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    if uid not in _FOUND:
        _FOUND[uid] = _python_for(uid)
    if _FOUND[uid] is None:
        pytest.skip(f"no Python interpreter that uid {uid} may run has funnel's dependencies "
                    "(the venv's interpreter lives under a private home)")
    return _FOUND[uid]


_HOMES: dict[int, Path] = {}


def home_of(uid: int) -> Path:
    """A home for `uid` (its config and data dirs): the tests' own are private to root."""
    if uid not in _HOMES:
        _HOMES[uid] = shared_dir(uid, 0o700)
    return _HOMES[uid]


def run_as(uid: int, argv: list[str], *, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m funnel_tui ARGV` as `uid` (bytes out/err), with its own home."""
    prefix, extra = as_user(uid)
    home = home_of(uid)
    dirs = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data")}
    return subprocess.run([*prefix, "-m", "funnel_tui", *argv], env={**worker_env(), **extra, **dirs, **(env or {})},
                          capture_output=True, timeout=timeout, cwd="/")


def shared_dir(owner: int = NOBODY, mode: int = 0o700) -> Path:
    """A folder under /tmp that `owner` owns (pytest's tmp_path is private to root)."""
    where = Path(tempfile.mkdtemp(prefix="funnel-user-", dir="/tmp"))
    os.chown(where, owner, owner)
    os.chmod(where, mode)
    return where


def chown_tree(path: Path, uid: int) -> None:
    for p in [path, *path.rglob("*")]:
        os.chown(p, uid, uid, follow_symlinks=False)


def one_line(err: bytes) -> str:
    """The error as the rep reads it; fails on a traceback or more than one line."""
    text = err.decode("utf-8", "replace").strip()
    assert "Traceback" not in text, text[-3000:]
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text[-3000:]
    return lines[0]
