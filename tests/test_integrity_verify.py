"""Outputs are verified on rerun: damaged, deleted or unreadable files are redone, never trusted.

Each case damages one part of a finished build; the rerun must give back exactly the clean build
(every file byte for byte), and an unreadable state file is named in one warning line.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import tree_digest
from integrity_helpers import RECIPE, make_folder, quick_build

from videossr.outputs import MARKER


def _first(folder: Path, pattern: str) -> Path:
    return sorted(folder.glob(pattern))[0]


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(bytes((i * 37 + 11) % 256 for i in range(path.stat().st_size)))  # same size, other bytes


def _rows_file(out: Path, video: str) -> Path:
    return _first(out / "rows" / video, "*.jsonl")


def _sample_file(out: Path) -> Path:
    return _first(out / "samples", "*/*/*/*.jpg")


DAMAGE = {
    "truncated store frame": lambda out: _truncate(out / "store/frames/v0/000003.jpg"),
    "garbage store frame": lambda out: _garbage(out / "store/frames/v1/000010.jpg"),
    "deleted store frame": lambda out: (out / "store/frames/v2/000000.jpg").unlink(),
    "truncated sample frame": lambda out: _truncate(_sample_file(out)),
    "garbage sample frame": lambda out: _garbage(_sample_file(out)),
    "deleted sample frame": lambda out: _sample_file(out).unlink(),
    "deleted sample folder": lambda out: __import__("shutil").rmtree(_sample_file(out).parent),
    "emptied rows file": lambda out: _rows_file(out, "v0").write_text(""),
    "truncated rows file": lambda out: _truncate(_rows_file(out, "v1")),
    "rows moved to another video": lambda out: _rows_file(out, "v2").write_text(_rows_file(out, "v2").read_text().replace('"video_id": "v2"', '"video_id": "v0"')),
    "garbage meta.json": lambda out: (out / "store/frames/v1/meta.json").write_text("{\"video_id\": "),
    "truncated fingerprints.json": lambda out: _truncate(out / "store/fingerprints.json"),
    "truncated build.json": lambda out: _truncate(out / "build.json"),
    "truncated marker": lambda out: _truncate(out / MARKER),
}


def test_every_kind_of_damage_is_redone_to_the_clean_build(tmp_path):
    src = make_folder(tmp_path / "src", 3)
    out = tmp_path / "out"
    quick_build(src, out)
    clean = tree_digest(out)
    for name, damage in DAMAGE.items():
        damage(out)
        assert tree_digest(out) != clean, name
        quick_build(src, out)
        after = tree_digest(out)
        assert after.keys() == clean.keys(), (name, sorted(after.keys() ^ clean.keys())[:5])
        assert [k for k in clean if clean[k] != after[k]] == [], name


def test_unreadable_state_files_are_named_in_one_line_and_overwrite_always_works(tmp_path):
    import yaml

    src = make_folder(tmp_path / "src", 2)
    out = tmp_path / "out"
    recipe_path = tmp_path / "integrity.yaml"
    recipe_path.write_text(yaml.safe_dump(RECIPE))
    cli = [sys.executable, "-m", "videossr", "build", str(src), "--out", str(out), "--recipe", str(recipe_path), "--no-progress", "--workers", "1"]
    assert subprocess.run(cli, capture_output=True).returncode == 0
    clean = tree_digest(out)
    for name in ("build.json", "store/fingerprints.json", "store/frames/v0/meta.json", MARKER):
        _truncate(out / name)
        result = subprocess.run(cli, capture_output=True, text=True)
        assert result.returncode == 0, (name, result.stderr)
        warnings = [line for line in result.stderr.splitlines() if str(out / name) in line]
        assert len(warnings) == 1 and warnings[0].startswith("warning: ") and "unreadable" in warnings[0], (name, result.stderr)
        assert "Traceback" not in result.stderr
        assert tree_digest(out) == clean, name
    for name in ("build.json", "store/fingerprints.json", "store/frames/v1/meta.json", MARKER, "store/sampling.json"):
        (out / name).write_text("\x00garbage")
    for rows in (out / "rows").rglob("*.jsonl"):
        rows.write_text("{")
    result = subprocess.run(cli + ["--overwrite"], capture_output=True, text=True)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert tree_digest(out) == clean


@pytest.mark.parametrize("damage", ["truncate", "delete-folder"])
def test_sample_store_is_verified_on_rerun(tmp_path, damage):
    from videossr.framestore import sample_folder

    src = make_folder(tmp_path / "src", 2)
    sample_folder(src, tmp_path / "store", workers=1, progress=False)
    clean = tree_digest(tmp_path / "store")
    if damage == "truncate":
        _truncate(tmp_path / "store/frames/v1/000005.jpg")
    else:
        __import__("shutil").rmtree(tmp_path / "store/frames/v0")
    report = sample_folder(src, tmp_path / "store", workers=1, progress=False)
    assert report.resumed == 1 and tree_digest(tmp_path / "store") == clean
