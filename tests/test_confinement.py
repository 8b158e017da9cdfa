"""Paths read from a dataset file stay inside the dataset folder; ids become safe file names;
read-only outputs and non-image frames are one error line (issue 17: Found 2 and 9)."""

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from integrity_helpers import make_folder

from videossr.build import build
from videossr.export import SCHEMA, export_eval, relocate
from videossr.paths import PathOutsideRoot, confined
from videossr.preview import preview
from videossr.recipe import parse_recipe

TINY = parse_recipe({"name": "tiny", "sampling": {"num_frames": 16},
                     "entries": [{"task": "grounding", "variant": "invert", "options": {"min_length": 4, "max_length": 6}},
                                 {"task": "jigsaw", "variant": "easy"}]})
ESCAPE = "../../../../x/ESCAPED"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("confine")
    build(make_folder(root / "src", 2), root / "ds", TINY, workers=1, progress=False)
    return root / "ds"


def _copy(built: Path, dest: Path) -> Path:
    shutil.copytree(built, dest)
    relocate(dest)
    return dest


def _edit_rows(ds: Path, change) -> None:
    path = ds / "train.parquet"
    rows = pq.read_table(path).to_pylist()
    change(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)


def _cli(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "videossr", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def _one_error_line(result: subprocess.CompletedProcess, code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


# ----------------------------------------------------------------------------- the helper


def test_confined_refuses_dot_dot_absolute_and_links_out(tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "secret.jpg").write_bytes(b"x")
    (root / "link.jpg").symlink_to(tmp_path / "secret.jpg")
    (root / "dirlink").symlink_to(tmp_path)
    assert confined(root, "sub/a.jpg") == (root / "sub/a.jpg").resolve()
    assert confined(root, str(root / "sub/../sub/a.jpg")) == (root / "sub/a.jpg").resolve()
    for bad in ("../secret.jpg", "sub/../../secret.jpg", "/etc/passwd", "link.jpg", "dirlink/secret.jpg", "", "a\0b"):
        with pytest.raises(PathOutsideRoot):
            confined(root, bad)
    # roots whose links are followed by design: only the normalised path is checked
    assert confined(root, "link.jpg", follow_links=False) == root.resolve() / "link.jpg"
    with pytest.raises(PathOutsideRoot):
        confined(root, "../secret.jpg", follow_links=False)


def test_confined_error_quotes_a_short_value(tmp_path):
    with pytest.raises(PathOutsideRoot) as caught:
        confined(tmp_path, "../" * 100_000 + "x")
    assert len(str(caught.value)) < 300


# ----------------------------------------------------------------------------- hostile datasets


def test_escaping_sample_id_writes_nothing_outside(built, tmp_path):
    ds = _copy(built, tmp_path / "work/ds")
    _edit_rows(ds, lambda rows: rows[0]["extra_info"].update(sample_id=ESCAPE))
    deep = tmp_path / "work/a/b/c"
    before = _files(tmp_path)
    export_eval(ds, deep / "exp", progress=False, workers=1)
    sheets = preview(ds, deep / "prev", n=50)
    made = _files(tmp_path) - before
    assert made and all(name.startswith("work/a/b/c/") for name in made), sorted(made)
    assert not (tmp_path / "x").exists() and not (tmp_path / "work/x").exists() and not (tmp_path / "work/a/x").exists()
    assert any("ESCAPED" in p.name and p.parent == deep / "prev" for p in sheets)
    assert any(p.startswith("videos/x_ESCAPED_") for p in made if "exp/videos" in p for p in [p.split("exp/", 1)[1]])


def test_distinct_unsafe_ids_get_distinct_files(built, tmp_path):
    ds = _copy(built, tmp_path / "ds")
    ids = ["a/b", "a_b", "a b"]

    def change(rows):
        for row, sid in zip(rows, ids):
            row["extra_info"]["sample_id"] = sid
            row["videos"] = row["videos"][:1]
    _edit_rows(ds, change)
    names = [p.name for p in preview(ds, tmp_path / "prev", n=50)]
    assert len(set(names)) == len(names) and "a_b.png" in names


@pytest.mark.parametrize("frame", ["/etc/passwd", "{root}/../outside/private.jpg", "{root}/store/../../outside/private.jpg"])
def test_frame_paths_outside_the_dataset_are_refused(built, tmp_path, frame):
    ds = _copy(built, tmp_path / "ds")
    (tmp_path / "outside").mkdir()
    shutil.copy(next((ds / "store/frames").rglob("*.jpg")), tmp_path / "outside/private.jpg")
    _edit_rows(ds, lambda rows: rows[0]["videos"][0]["video"].__setitem__(0, frame.format(root=ds)))
    for args in (("export", ds, "--out", tmp_path / "exp", "--workers", "1", "--no-progress"), ("preview", ds, "--out", tmp_path / "prev", "--n", "50")):
        line = _one_error_line(_cli(*args))
        assert "is outside" in line
    assert not (tmp_path / "exp/videos").exists() and not (tmp_path / "prev").exists()


def test_trl_and_eval_dataset_readers_refuse_outside_frames(built, tmp_path):
    from videossr.evaluate.dataset_target import load_dataset
    from videossr.train.trl_data import plain_rows

    ds = _copy(built, tmp_path / "ds")
    _edit_rows(ds, lambda rows: rows[0]["videos"][0]["video"].__setitem__(0, "/etc/passwd"))
    with pytest.raises(PathOutsideRoot):
        plain_rows(ds / "train.parquet")
    with pytest.raises(PathOutsideRoot):
        load_dataset(ds)


def test_moved_dataset_points_at_relocate(built, tmp_path):
    ds = tmp_path / "moved"
    shutil.copytree(built, ds)  # not relocated: frame paths still name the original folder
    line = _one_error_line(_cli("preview", ds, "--out", tmp_path / "prev"))
    assert "videossr relocate" in line


def test_relocate_refuses_paths_that_climb_out_of_the_root(built, tmp_path):
    ds = _copy(built, tmp_path / "ds")
    _edit_rows(ds, lambda rows: rows[0]["videos"][0]["video"].__setitem__(0, f"{ds.resolve()}/../../etc/passwd"))
    line = _one_error_line(_cli("relocate", ds))
    assert "not a plain path under the recorded root" in line


# ----------------------------------------------------------------------------- Found 9: one line


def test_non_image_frame_is_one_line_naming_it(built, tmp_path):
    ds = _copy(built, tmp_path / "ds")
    row = next(r for r in pq.read_table(ds / "train.parquet").to_pylist() if r["extra_info"]["task"] == "grounding")
    frame = Path(row["videos"][0]["video"][3])
    frame.write_text("not a jpeg\n")
    for args in (("export", ds, "--out", tmp_path / "exp", "--workers", "1", "--no-progress"),
                 ("export", ds, "--out", tmp_path / "exp2", "--workers", "2", "--no-progress"),
                 ("preview", ds, "--out", tmp_path / "prev", "--n", "50")):
        line = _one_error_line(_cli(*args))
        assert str(frame) in line and "not a readable image" in line


def _read_only_under(monkeypatch, folder: Path) -> None:
    """Every create, mkdir or rename under ``folder`` fails as on a read-only mount (EROFS)."""
    folder = str(folder)

    def refuse(path) -> bool:
        return os.path.abspath(os.fspath(path)).startswith(folder)

    def fail(path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))

    real_open, real_mkdir, real_replace = os.open, os.mkdir, os.replace

    def fake_open(path, flags, *args, **kwargs):
        if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR) and refuse(path):
            fail(path)
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "mkdir", lambda path, *a, **k: fail(path) if refuse(path) else real_mkdir(path, *a, **k))
    monkeypatch.setattr(os, "replace", lambda src, dst, *a, **k: fail(dst) if refuse(dst) else real_replace(src, dst, *a, **k))


@pytest.mark.parametrize("verb", ["preview", "relocate", "export"])
def test_read_only_out_is_one_line(built, tmp_path, monkeypatch, capsys, verb):
    from videossr.cli import main

    ds = _copy(built, tmp_path / "ds")
    out = tmp_path / "ro"
    args = {"preview": ["preview", str(ds), "--out", str(out)], "relocate": ["relocate", str(ds)],
            "export": ["export", str(ds), "--out", str(out), "--workers", "1", "--no-progress"]}[verb]
    _read_only_under(monkeypatch, ds if verb == "relocate" else out)
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # one line naming the folder (the writer lock, taken first, or the write itself reports it)
    assert len(err) == 1 and err[0].startswith("error: ") and "Read-only file system" in err[0] and str(ds if verb == "relocate" else out) in err[0], err
