"""Build integrity: each reproduction of the issue, as a regression test.

An output folder must always be exactly the dataset its command describes, whatever happened
to the folder before (reruns after edits, other seeds, recipes, sizes).
"""

import json
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from integrity_helpers import RECIPE, assert_equals_clean_build, make_folder, make_video, quick_build, recipe
from media import make_random_bytes, make_text_file, make_zero_byte

from videossr.errors import UserError
from videossr.export import export_eval, relocate
from videossr.recipe import load_recipe, parse_recipe


def _rows(out: Path) -> list[dict]:
    return pq.read_table(out / "train.parquet").to_pylist()


def _cli(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "videossr", *map(str, args)], capture_output=True, text=True, **kwargs)


def test_replaced_video_is_resampled_and_its_rows_redone(tmp_path):
    src = make_folder(tmp_path / "src", 3)
    quick_build(src, tmp_path / "out")
    before = {r["extra_info"]["sample_id"]: r for r in _rows(tmp_path / "out") if r["extra_info"]["video_id"] == "v1"}
    shutil.copy(src / "v2.mp4", src / "v1.mp4")  # same name, other content
    quick_build(src, tmp_path / "out")
    meta = json.loads((tmp_path / "out/store/frames/v1/meta.json").read_text())
    assert meta["fingerprint"]["blake2b"] == json.loads((tmp_path / "out/store/frames/v2/meta.json").read_text())["fingerprint"]["blake2b"]
    after = {r["extra_info"]["sample_id"]: r for r in _rows(tmp_path / "out") if r["extra_info"]["video_id"] == "v1"}
    assert before.keys() == after.keys() and any(before[k]["videos"] != after[k]["videos"] or before[k]["reward_model"] != after[k]["reward_model"] for k in before)
    assert_equals_clean_build(src, tmp_path / "out")


def test_same_stat_but_new_content_is_noticed(tmp_path):
    """Content, not names or times: a file rewritten with its old mtime is still resampled."""
    import os

    src = make_folder(tmp_path / "src", 2)
    quick_build(src, tmp_path / "out")
    st = (src / "v0.mp4").stat()
    make_video(src / "v0.mp4", 5)
    os.utime(src / "v0.mp4", ns=(st.st_atime_ns, st.st_mtime_ns))
    quick_build(src, tmp_path / "out")
    assert_equals_clean_build(src, tmp_path / "out")


def test_added_video_keeps_sample_ids_unique_and_export_consistent(tmp_path):
    src = make_folder(tmp_path / "src", 2)
    quick_build(src, tmp_path / "out")
    make_video(src / "v9.mp4", 9)
    report = quick_build(src, tmp_path / "out")
    ids = [r["extra_info"]["sample_id"] for r in _rows(tmp_path / "out")]
    assert len(ids) == len(set(ids)) == report.rows == 12
    assert {r["extra_info"]["video_id"] for r in _rows(tmp_path / "out")} == {"v0", "v1", "v9"}
    assert_equals_clean_build(src, tmp_path / "out")
    items = json.loads(export_eval(tmp_path / "out", tmp_path / "eval", progress=False).read_text())
    assert len({i["video"] for i in items}) == len(items) == 12


def test_removed_video_leaves_no_rows_or_frames(tmp_path):
    src = make_folder(tmp_path / "src", 3)
    quick_build(src, tmp_path / "out")
    (src / "v2.mp4").unlink()
    quick_build(src, tmp_path / "out")
    assert {r["extra_info"]["video_id"] for r in _rows(tmp_path / "out")} == {"v0", "v1"}
    assert not (tmp_path / "out/store/frames/v2").exists() and not (tmp_path / "out/samples/v2").exists()
    assert_equals_clean_build(src, tmp_path / "out")


@pytest.mark.parametrize("change", [{"seed": 7}, {"size": 5}, {"recipe": "other"}])
def test_other_settings_are_refused_then_replaced_with_overwrite(tmp_path, change):
    src = make_folder(tmp_path / "src", 2)
    quick_build(src, tmp_path / "out")
    rec = recipe(seed=change.get("seed", 0), entries=RECIPE["entries"][:2] if "recipe" in change else RECIPE["entries"])
    size = change.get("size")
    word = {"seed": "seed 0 -> 7", "size": "size None -> 5", "recipe": "recipe_hash"}[next(iter(change))]
    with pytest.raises(UserError, match=word):
        quick_build(src, tmp_path / "out", rec, size=size)
    quick_build(src, tmp_path / "out", rec, size=size, overwrite=True)
    assert json.loads((tmp_path / "out/build.json").read_text())["settings"]["seed"] == rec.seed
    assert_equals_clean_build(src, tmp_path / "out", rec, size=size)


def test_a_new_seed_gives_new_samples_not_reshuffled_old_ones(tmp_path):
    src = make_folder(tmp_path / "src", 2)
    quick_build(src, tmp_path / "out")
    old = {r["extra_info"]["sample_id"]: r["extra_info"]["params"] for r in _rows(tmp_path / "out")}
    quick_build(src, tmp_path / "out", recipe(seed=7), overwrite=True)
    new = {r["extra_info"]["sample_id"]: r["extra_info"]["params"] for r in _rows(tmp_path / "out")}
    assert old.keys() == new.keys() and sum(old[k] != new[k] for k in old) >= len(old) // 2


def test_output_folders_are_never_input(tmp_path):
    src = make_folder(tmp_path / "src", 2)
    with pytest.raises(UserError, match="is the input folder or contains it"):
        quick_build(src, src)
    with pytest.raises(UserError, match="is the input folder or contains it"):
        quick_build(src, tmp_path)
    quick_build(src, src / "out-inside")
    quick_build(src, tmp_path / "elsewhere")
    shutil.move(tmp_path / "elsewhere", src / "old-output")  # an earlier output moved into the input
    report = quick_build(src, tmp_path / "second")
    assert report.video_skips == [] and report.rows == 8
    export_eval(tmp_path / "second", src / "an-export", progress=False)
    assert quick_build(src, tmp_path / "third").video_skips == []


def test_broken_files_get_no_share_and_size_is_met(tmp_path):
    src = make_folder(tmp_path / "src", 3)
    make_zero_byte(src), make_text_file(src), make_random_bytes(src)
    report = quick_build(src, tmp_path / "out", size=30)
    assert report.rows == 30 and len(report.video_skips) == 3
    per_video = Counter(r["extra_info"]["video_id"] for r in _rows(tmp_path / "out"))
    assert per_video == {"v0": 10, "v1": 10, "v2": 10}
    assert "get no share" in report.summary_text()


def test_small_size_spreads_evenly_and_opens_only_what_it_needs(tmp_path):
    src = make_folder(tmp_path / "src", 6)
    report = quick_build(src, tmp_path / "out", size=6)
    assert Counter(r["extra_info"]["video_id"] for r in _rows(tmp_path / "out")) == {f"v{k}": 1 for k in range(6)}
    report = quick_build(src, tmp_path / "small", size=3)
    assert report.not_opened == 3 and report.rows == 3
    assert sorted(p.name for p in (tmp_path / "small/store/frames").iterdir()) == ["v0", "v1", "v2"]
    assert_equals_clean_build(src, tmp_path / "small", size=3)


def test_samples_a_video_cannot_yield_move_to_other_videos(tmp_path):
    """Grayscale is invisible on a gray video: its samples are made on the colour videos instead."""
    import av
    import numpy as np

    src = make_folder(tmp_path / "src", 2)
    gray = np.repeat(np.linspace(0, 255, 128, dtype=np.uint8)[None, :, None], 96, axis=0)
    with av.open(str(src / "a_gray.mp4"), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv444p"
        for i in range(60):
            frame = av.VideoFrame.from_ndarray(np.repeat(np.roll(gray, i, axis=1), 3, axis=2), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    rec = parse_recipe({"entries": [{"task": "grounding", "variant": "grayscale"}]})
    report = quick_build(src, tmp_path / "out", rec, size=6)
    rows = _rows(tmp_path / "out")
    assert report.rows == 6 and report.moved == 2
    assert "a_gray" not in {r["extra_info"]["video_id"] for r in rows}
    assert "made on another video" in report.summary_text()


def test_export_owns_its_folder(tmp_path):
    src = make_folder(tmp_path / "src", 2)
    quick_build(src, tmp_path / "a")
    quick_build(src, tmp_path / "b", recipe(seed=3))
    export_eval(tmp_path / "a", tmp_path / "eval", progress=False)
    stray = tmp_path / "eval/videos/stale-sample.mp4"
    shutil.copy(next((tmp_path / "eval/videos").glob("*.mp4")), stray)
    before = {p.name: p.read_bytes() for p in (tmp_path / "eval/videos").glob("grounding-mirror-*.mp4")}
    export_eval(tmp_path / "b", tmp_path / "eval", progress=False)
    after = {p.name: p.read_bytes() for p in (tmp_path / "eval/videos").glob("grounding-mirror-*.mp4")}
    assert not stray.exists() and before.keys() == after.keys() and before != after
    fresh = export_eval(tmp_path / "b", tmp_path / "eval-fresh", progress=False)
    assert json.loads(fresh.read_text()) == json.loads((tmp_path / "eval/eval.json").read_text())
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/todo.txt").write_text("mine")
    with pytest.raises(UserError, match="did not write"):
        export_eval(tmp_path / "b", tmp_path / "notes", progress=False)


def test_relocate_root_must_be_absolute(tmp_path):
    src = make_folder(tmp_path / "src", 2)
    quick_build(src, tmp_path / "out")
    with pytest.raises(UserError, match="absolute"):
        relocate(tmp_path / "out", "rel/path")
    result = _cli("relocate", tmp_path / "out", "--root", "rel/path")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "absolute" in result.stderr


def test_val_videos_never_appear_in_train(tmp_path):
    src = make_folder(tmp_path / "src", 5)
    report = quick_build(src, tmp_path / "out", val_videos=2)
    train = {r["extra_info"]["video_id"] for r in _rows(tmp_path / "out")}
    val_rows = pq.read_table(tmp_path / "out/val.parquet").to_pylist()
    val = {r["extra_info"]["video_id"] for r in val_rows}
    assert len(val) == 2 and not train & val and len(train) == 3
    assert report.val_rows == len(val_rows) == 8 and all(r["extra_info"]["split"] == "val" for r in val_rows)
    assert all(r["extra_info"]["sample_id"].startswith("val-") for r in val_rows)
    swaps = [json.loads(r["extra_info"]["params"]) for r in val_rows if r["extra_info"]["variant"] == "swap"]
    assert swaps and all(p["donor_video_id"] in val for p in swaps)  # val never borrows train frames
    assert_equals_clean_build(src, tmp_path / "out", val_videos=2)
    quick_build(src, tmp_path / "out", overwrite=True)
    assert not (tmp_path / "out/val.parquet").exists()


def test_frame_store_is_at_the_training_size(tmp_path, clips_dir):
    import json as _json

    quick_build(clips_dir, tmp_path / "train", load_recipe("videossr30k"), size=4)
    quick_build(clips_dir, tmp_path / "eval", parse_recipe({**RECIPE, "sampling": {"max_pixels": 512 * 512}}), size=4)
    for out, limit in ((tmp_path / "train", 256 * 256), (tmp_path / "eval", 512 * 512)):
        sizes = [(m["width"], m["height"]) for m in map(_json.loads, (out / "store/manifest.jsonl").read_text().splitlines())]
        assert max(w * h for w, h in sizes) <= limit and max(w * h for w, h in sizes) > limit // 2


BAD_RECIPES = {
    "malformed.yaml": "entries: [ {task: jigsaw\n",
    "entries-string.yaml": "entries: jigsaw\n",
    "string-int.yaml": "entries:\n  - {task: grounding, variant: mirror, options: {min_length: '8'}}\n",
    "start-range.yaml": "entries:\n  - {task: grounding, variant: mirror, options: {start_range: 5}}\n",
    "sampling-key.yaml": "sampling: {fps: 2}\nentries:\n  - {task: jigsaw, variant: easy}\n",
    "misspelled.yaml": "entries:\n  - {task: jigsaw, variant: easy, wieght: 5}\n",
    "letters.yaml": "entries:\n  - {task: grounding, variant: mixed, options: {perturbations: mirror}}\n",
    "too-long.yaml": "entries:\n  - {task: grounding, variant: mirror, options: {min_length: 60, max_length: 60}}\n",
    "huge-shapes.yaml": "entries:\n  - {task: counting, variant: easy, options: {size_range: [0.9, 2.0]}}\n",
    "pixels.yaml": "training_pixels: {max_pixels: 1000, min_pixels: 2000}\nentries:\n  - {task: jigsaw, variant: easy}\n",
}


@pytest.mark.parametrize("name", sorted(BAD_RECIPES))
def test_bad_recipes_fail_in_one_line_before_any_decoding(tmp_path, name):
    src = make_folder(tmp_path / "src", 1)
    path = tmp_path / name
    path.write_text(BAD_RECIPES[name])
    result = _cli("build", src, "--out", tmp_path / "out", "--recipe", path, "--no-progress")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_user_errors_are_one_line_with_exit_2(tmp_path):
    src = make_folder(tmp_path / "src", 1)
    (tmp_path / "a-file").write_text("x")
    cases = [
        ("build", src, "--out", tmp_path / "a-file"),  # a file where a folder is expected
        ("build", src, "--out", "/proc/videossr-cannot-write-here"),  # not writable
        ("build", src, "--out", tmp_path / "o", "--recipe", tmp_path),  # a folder where a file is expected
        ("score", tmp_path, "--dataset", tmp_path),
        ("build", tmp_path / "missing", "--out", tmp_path / "o2"),
        ("build", src, "--out", tmp_path / "o3", "--val-videos", "some"),
    ]
    for args in cases:
        result = _cli(*args, "--no-progress") if args[0] == "build" else _cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, (args, result.stderr)


def test_closed_stdout_pipe_is_quiet(tmp_path):
    src = make_folder(tmp_path / "src", 2)
    proc = subprocess.Popen([sys.executable, "-m", "videossr", "build", str(src), "--out", str(tmp_path / "out"), "--no-progress", "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # like `| head` exiting before the summary is printed
    stderr = proc.stderr.read()
    assert proc.wait() == 0 and "BrokenPipe" not in stderr and "Traceback" not in stderr


@pytest.mark.slow
def test_ctrl_c_exits_130_and_the_rerun_resumes(tmp_path):
    src = make_folder(tmp_path / "src", 12)
    cmd = [sys.executable, "-m", "videossr", "build", str(src), "--out", str(tmp_path / "out"), "--no-progress", "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and not list((tmp_path / "out/store/frames").glob("v*")):
        time.sleep(0.02)
    import os

    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends: the whole process group
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; rerun" in err and "Traceback" not in err
    assert _cli("build", src, "--out", tmp_path / "out", "--no-progress", "--workers", "1").returncode == 0
    assert_equals_clean_build(src, tmp_path / "out", load_recipe("videossr30k"))
