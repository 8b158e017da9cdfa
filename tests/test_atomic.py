import os

import pytest

from videossr import atomic


def test_atomic_files_and_dirs_get_normal_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        path = atomic.write_text(tmp_path / "a" / "x.txt", "hi")
        staging = atomic.make_staging_dir(tmp_path / "d")
        atomic.commit_dir(staging, tmp_path / "d")
    finally:
        os.umask(mask)
    assert path.read_text() == "hi"
    assert (path.stat().st_mode & 0o777) == 0o644
    assert ((tmp_path / "d").stat().st_mode & 0o777) == 0o755


def test_failed_write_leaves_no_temp_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "x.json"
    atomic.write_json(target, {"a": 1})

    def broken_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        atomic.write_json(target, {"a": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert '"a": 1' in target.read_text()


def test_remove_stale_tmp(tmp_path):
    (tmp_path / ".tmp-a.123").mkdir()
    (tmp_path / ".tmp-b.456").write_text("x")
    (tmp_path / "keep").mkdir()
    assert atomic.remove_stale_tmp(tmp_path) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]
