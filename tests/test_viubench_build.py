"""VIUBench folders built from the real clips: files and versions, determinism, video spread, CLI end to end."""

import json
from collections import Counter

import pytest

from conftest import tree_digest
from videossr.cli import main
from videossr.errors import UserError
from videossr.viubench import BENCH_VERSION, SUBSETS, Clip, load_items, score_predictions
from videossr.viubench.baselines import write_baseline
from videossr.viubench.bench import build_bench

PER_SUBSET = 2  # fewer than the 4 real clips: no subset may use a video twice


@pytest.fixture(scope="module")
def bench(tmp_path_factory, clips_dir):
    out = tmp_path_factory.mktemp("viubench") / "bench"
    report = build_bench(clips_dir, out, per_subset=PER_SUBSET, seed=7, workers=2, progress=False)
    return out, report


def test_items_cover_the_nine_subsets_in_paper_order_with_versions_everywhere(bench):
    out, report = bench
    assert report.counts == dict.fromkeys(SUBSETS, PER_SUBSET)
    items = load_items(out)
    assert [i.subset for i in items] == [s for s in SUBSETS for _ in range(PER_SUBSET)]
    lines = [json.loads(line) for line in (out / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(line["viubench_version"] == BENCH_VERSION for line in lines)
    meta = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    assert meta["viubench_version"] == BENCH_VERSION and meta["seed"] == 7 and meta["per_subset"] == PER_SUBSET and meta["complete"]
    assert meta["frames"] == {"num_frames": 48, "max_pixels": 512 * 512}
    assert meta["placement"] == {"counting_easy": "paper", "counting_hard": "paper"}  # the paper's counting placement
    assert all(line["params"]["placement"] == "paper" for line in lines if line["task"] == "counting")
    eval_entries = json.loads((out / "eval" / "eval.json").read_text(encoding="utf-8"))
    assert [e["id"] for e in eval_entries] == [i.id for i in items]
    assert all(e["viubench_version"] == BENCH_VERSION for e in eval_entries)
    for item in items:
        assert all(path.startswith(str(out.resolve())) for clip in item.clips for path in clip)
        assert all((out / f).is_file() for f in item.eval_files) and len(item.eval_files) == len(item.clips)
        assert item.max_pixels == 512 * 512 and item.min_pixels == 16384


def test_counting_params_are_what_the_placement_benchmark_redraws(bench):
    # benchmarks/bench_counting_placement.py redraws a build's counting params from the seed and the frame size alone
    import numpy as np
    from PIL import Image

    from videossr.seeding import rng_for
    from videossr.tasks import SampleContext, counting

    items = [i for i in load_items(bench[0]) if i.task == "counting"]
    assert len(items) == 2 * PER_SUBSET
    for item in items:
        with Image.open(item.clips[0][0]) as image:
            size = image.size
        ctx = SampleContext(item.video_id, np.broadcast_to(np.zeros((1, 1, 1, 3), np.uint8), (48, size[1], size[0], 3)), 1.0)
        rng = rng_for(7, item.video_id, "counting", item.variant, int(item.id.rsplit("-", 1)[1]))
        assert counting.draw_params(rng, ctx, counting.options(item.variant, placement="paper")) == item.params


def test_user_message_layout_single_video_and_jigsaw_clips(bench):
    items = load_items(bench[0])
    counting = next(i for i in items if i.subset == "counting_hard")
    parts = counting.user_parts()
    assert isinstance(parts[0], Clip) and len(parts[0].frames) == 48 and parts[1] == "\n" + counting.question
    assert counting.user == f"<video>\n{counting.question}"
    jigsaw = next(i for i in items if i.subset == "jigsaw_hard")
    parts = jigsaw.user_parts()
    assert [p for p in parts if isinstance(p, str)][:2] == ["Clip 1: ", "\nClip 2: "]
    clips = [p for p in parts if isinstance(p, Clip)]
    assert len(clips) == 8 and all(len(c.frames) == 6 for c in clips) and parts[-1].endswith(jigsaw.question)
    assert sorted(jigsaw.answer) == list("12345678")
    for item in items:  # the stored answer is what the scorer counts as right
        assert item.answer and item.system_prompt


def test_each_subset_uses_every_video_once_when_there_are_enough(bench):
    out, report = bench
    items = load_items(out)
    for name in SUBSETS:
        videos = [i.video_id for i in items if i.subset == name]
        assert len(set(videos)) == len(videos) == PER_SUBSET, name
    assert report.reuse == {} and "not enough videos" not in report.summary_text()


def test_same_seed_and_videos_give_byte_identical_benchmark(bench, tmp_path, clips_dir):
    out, _ = bench
    again = tmp_path / "again"
    build_bench(clips_dir, again, per_subset=PER_SUBSET, seed=7, workers=1, progress=False)
    for name in ("items.jsonl", "bench.json", "eval/eval.json"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    assert tree_digest(again / "build" / "samples") == tree_digest(out / "build" / "samples")  # the drawn frames too
    assert tree_digest(again / "eval" / "videos") == tree_digest(out / "eval" / "videos")  # the mp4s too (1 vs 2 workers)


def test_too_few_videos_is_said_and_other_settings_need_overwrite(tmp_path, clips_dir):
    out = tmp_path / "small"
    build_bench(clips_dir, out, per_subset=1, seed=0, workers=1, progress=False, export=False)
    with pytest.raises(UserError, match="other settings.*per_subset 1 -> 5.*--overwrite"):
        build_bench(clips_dir, out, per_subset=5, seed=0, workers=1, progress=False, export=False)
    report = build_bench(clips_dir, out, per_subset=5, seed=0, workers=1, progress=False, export=False, overwrite=True)
    text = report.summary_text()
    assert "not enough videos" in text and "subset jigsaw_easy reuses videos: 5 items over 4 videos" in text
    assert json.loads((out / "bench.json").read_text())["video_reuse"]["counting_easy"] == {"items": 5, "videos": 4}
    per_video = Counter(i.video_id for i in load_items(out) if i.subset == "counting_easy")
    assert sorted(per_video.values()) == [1, 1, 1, 2]  # spread evenly: only one video repeats


def test_other_benchmark_versions_are_refused(bench, tmp_path):
    out, _ = bench
    predictions = write_baseline("random", out, tmp_path / "random.jsonl")
    lines = predictions.read_text(encoding="utf-8").replace(BENCH_VERSION, "viubench-2.0")
    (tmp_path / "v2.jsonl").write_text(lines, encoding="utf-8")
    with pytest.raises(UserError, match="'viubench-2.0'"):
        score_predictions(tmp_path / "v2.jsonl", out)
    copy = tmp_path / "bench-v0"
    copy.mkdir()
    meta = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    (copy / "bench.json").write_text(json.dumps({**meta, "viubench_version": "viubench-0.1"}), encoding="utf-8")
    (copy / "items.jsonl").write_bytes((out / "items.jsonl").read_bytes())
    with pytest.raises(UserError, match="'viubench-0.1'.*rebuild"):
        load_items(copy)


def test_cli_build_baseline_score_compare_plot(bench, tmp_path, capsys):
    out, _ = bench
    pred = tmp_path / "random.jsonl"
    assert main(["viubench", "baseline", "random", "--bench", str(out), "--out", str(pred)]) == 0
    first = json.loads(pred.read_text(encoding="utf-8").splitlines()[0])
    assert first["viubench_version"] == BENCH_VERSION and first["bench"] == json.loads((out / "bench.json").read_text())["fingerprint"]
    files = {k: tmp_path / f"r.{k}" for k in ("json", "csv", "png")}
    code = main(["viubench", "score", str(pred), "--bench", str(out), "--compare", "GPT-5", "VideoSSR-8B",
                 "--json", str(files["json"]), "--csv", str(files["csv"]), "--plot", str(files["png"])])
    printed = capsys.readouterr().out
    assert code == 0
    assert "GPT-5 (paper)" in printed and "VideoSSR-8B (paper)" in printed and "Overall" in printed
    report = json.loads(files["json"].read_text())
    assert report["reports"][0]["items"] == 9 * PER_SUBSET and report["reports"][0]["missing"] == 0
    assert [p["model"] for p in report["published"]] == ["GPT-5", "VideoSSR-8B"]
    csv_rows = files["csv"].read_text().splitlines()
    assert len(csv_rows) == 5 and csv_rows[2].startswith("chance (analytic),analytic,")  # header, yours, the chance row, 2 published
    assert "not item for item" in printed and "answers read by the paper parser" in printed
    assert len(report["reports"][0]["per_item"]) == 9 * PER_SUBSET and report["reports"][0]["ci95"]["overall"] is not None
    assert main(["viubench", "score", str(pred), "--bench", str(out), "--parser", "robust", "--ci"]) == 0
    printed = capsys.readouterr().out
    assert "answers read by the robust parser" in printed and "+/- 95% CI (bootstrap)" in printed and "not item for item" not in printed
    chance = tmp_path / "chance.jsonl"
    assert main(["viubench", "baseline", "chance", "--bench", str(out), "--out", str(chance)]) == 0
    assert json.loads(chance.read_text(encoding="utf-8").splitlines()[0])["baseline"] == "chance"
    assert files["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "stranger.jsonl").write_text('{"id": "nope", "response": "1"}\n', encoding="utf-8")
    assert main(["viubench", "score", str(tmp_path / "stranger.jsonl"), "--bench", str(out)]) == 1
    assert main(["viubench", "score", str(pred), "--bench", str(tmp_path)]) == 2
    assert "is not a VIUBench folder" in capsys.readouterr().err
