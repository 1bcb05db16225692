"""Saves that survive a kill at any point, leave nothing behind and honour the umask; damaged files named."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from disreid.io import (
    PARTIAL,
    UnreadableFileError,
    atomic_directory,
    atomic_write_text,
    current,
    read_json,
)

# Saves `sys.argv[2]` into the folder `sys.argv[1]` and kills itself (SIGKILL: no cleanup runs) just before
# the file-system call number `sys.argv[3]` (0: never), counting every call that creates, renames or deletes.
SAVE = """
import os, shutil, signal, sys
from pathlib import Path
import disreid.io as io

target, version, kill_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
calls = 0

def killing(function):
    def call(*args, **kwargs):
        global calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return function(*args, **kwargs)
    return call

os.replace, os.mkdir, shutil.rmtree = killing(os.replace), killing(os.mkdir), killing(shutil.rmtree)
Path.write_text = killing(Path.write_text)
with io.atomic_directory(target) as staging:
    for part in range(3):
        (staging / f"part{part}").write_text(version)
print(calls)
"""


def save(target: Path, version: str, kill_at: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SAVE, str(target), version, str(kill_at)], capture_output=True, text=True
    )


def version_of(target: Path) -> str:
    """The one version every part of the folder holds; fails on a mixed or incomplete copy."""
    versions = {(current(target) / f"part{part}").read_text() for part in range(3)}
    assert len(versions) == 1, versions
    return versions.pop()


def test_a_save_killed_at_any_point_leaves_the_old_or_the_new_copy(tmp_path):
    target = tmp_path / "last"
    assert save(target, "v0").returncode == 0
    calls = int(save(target, "v1").stdout)  # file-system calls of one save over an existing copy
    assert calls >= 6
    for kill_at in range(1, calls + 1):
        killed = save(target, "v2", kill_at)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert version_of(target) in ("v1", "v2"), kill_at
        # The next save, killed while it fills its staging folder, must not cost the surviving copy.
        before = version_of(target)
        assert save(target, "v3", 3).returncode == -signal.SIGKILL
        assert version_of(target) == before, kill_at
        assert save(target, "v1").returncode == 0
        assert version_of(target) == "v1"
        leftovers = sorted(path.name for path in tmp_path.iterdir() if path.name != "last")
        assert leftovers == [], (kill_at, leftovers)


def test_interrupted_saves_leave_no_staging_behind(tmp_path):
    target = tmp_path / "index"
    for kill_at in (2, 3):  # while filling the staging folder
        assert save(target, "v0", kill_at).returncode == -signal.SIGKILL
    assert any(path.name.endswith(PARTIAL) for path in tmp_path.iterdir())
    with atomic_directory(target) as staging:
        (staging / "part").write_text("v1")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index"]
    other = tmp_path / "index2"  # another save's staging is left alone
    other.mkdir()
    (tmp_path / f".index2.0123abcd{PARTIAL}").mkdir()
    atomic_write_text(tmp_path / "index" / "notes.txt", "kept")
    assert (tmp_path / f".index2.0123abcd{PARTIAL}").is_dir()


@pytest.mark.parametrize("umask, file_mode, folder_mode", [(0o022, 0o644, 0o755), (0o002, 0o664, 0o775)])
def test_saved_files_have_the_modes_the_umask_gives(tmp_path, umask, file_mode, folder_mode):
    previous = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "config.yaml", "a: 1\n")
        with atomic_directory(tmp_path / "best") as staging:
            (staging / "metrics.json").write_text("{}")
            (staging / "model").mkdir()
            # safetensors (0.8) writes its files 0600 whatever the umask: a model nobody else could read
            os.close(os.open(staging / "model" / "model.safetensors", os.O_CREAT | os.O_WRONLY, 0o600))
    finally:
        os.umask(previous)
    assert (tmp_path / "config.yaml").stat().st_mode & 0o777 == file_mode
    assert (tmp_path / "best").stat().st_mode & 0o777 == folder_mode
    assert (tmp_path / "best" / "metrics.json").stat().st_mode & 0o777 == file_mode
    assert (tmp_path / "best" / "model" / "model.safetensors").stat().st_mode & 0o777 == file_mode


def test_a_saved_model_is_readable_by_others_as_the_umask_allows(tmp_path):
    from conftest import CAPTIONS, small_config
    from disreid.model import build_model

    previous = os.umask(0o022)
    try:
        build_model(small_config(), CAPTIONS).save_pretrained(tmp_path / "model")
    finally:
        os.umask(previous)
    modes = {
        path.name: path.stat().st_mode & 0o777 for path in (tmp_path / "model").rglob("*") if path.is_file()
    }
    assert set(modes.values()) == {0o644}, modes


def test_a_truncated_json_file_is_named_in_one_line(tmp_path):
    path = tmp_path / "meta.json"
    path.write_text('{"format": 1, "co')
    with pytest.raises(UnreadableFileError, match=f"^{path} is damaged") as error:
        read_json(path)
    assert "\n" not in str(error.value)
