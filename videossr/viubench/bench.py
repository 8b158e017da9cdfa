"""``videossr viubench build``: a VIUBench folder from any videos, over the single-pass build.

Layout of ``BENCH``::

    BENCH/.videossr.json     marks the folder as a VIUBench output
    BENCH/bench.json         version, seed, per-subset counts, settings, fingerprint, video reuse, counting placement
    BENCH/items.jsonl        the questions (see videossr.viubench.items), frame paths relative to BENCH
    BENCH/build/             the videossr build of the VIUBench recipe (frame store, new frames, parquet)
    BENCH/eval/              the evaluation export: eval.json + one mp4 per item (clip mp4s for jigsaw)

The build spreads each subset round-robin over the usable videos, so within a subset no video
is used twice while there are at least as many videos as items; when there are fewer, the
summary and ``bench.json`` say which subsets reuse videos. Same videos + same seed give
byte-identical ``items.jsonl`` and ``bench.json`` (paths are relative, nothing time-dependent is
recorded). A rerun resumes (finished videos and mp4s are reused); a rerun with another seed or
size is refused unless ``overwrite=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from videossr import atomic
from videossr.errors import UserError
from videossr.outputs import lock_scope
from videossr.viubench.items import BENCH_FILE, ITEMS_FILE, item_record
from videossr.viubench.subsets import BENCH_VERSION, PAPER_PER_SUBSET, RECIPE_NAME, SUBSET_INFO, SUBSETS, subset_for

BUILD_DIR, EVAL_DIR = "build", "eval"
BENCH_FORMAT = "viubench-folder-1"


@dataclass
class BenchReport:
    out: Path
    counts: dict[str, int]  # items per subset
    requested: int  # per subset
    videos_used: int
    reuse: dict[str, dict] = field(default_factory=dict)  # subset -> {"items", "videos"} where a video repeats
    build_summary: str = ""
    exported: bool = True  # BENCH/eval holds the evaluation export

    @property
    def items(self) -> int:
        return sum(self.counts.values())

    def summary_text(self) -> str:
        lines = [self.build_summary, f"VIUBench {BENCH_VERSION}: {self.items} items from {self.videos_used} video(s) in {self.out / ITEMS_FILE}"]
        short = [f"{name} {n}/{self.requested}" for name, n in self.counts.items() if n < self.requested]
        if short:
            lines.append("  short subsets: " + ", ".join(short))
        if self.reuse:
            lines.append(f"not enough videos: {len(self.reuse)} subset(s) reuse videos (a subset uses each video once only while it has more videos than items):")
            lines += [f"  subset {name} reuses videos: {r['items']} items over {r['videos']} videos" for name, r in self.reuse.items()]
        if self.exported:
            lines.append(f"evaluation export: {self.out / EVAL_DIR / 'eval.json'} (+ mp4s)")
        return "\n".join(line for line in lines if line)


def counting_placements(recipe) -> dict[str, str]:
    """{counting subset: shape placement} of a recipe's counting entries (``paper`` in viubench-1.1)."""
    from videossr.tasks import get_task

    return {subset_for(e.task, e.variant).name: get_task(e.task).options(e.variant, **e.options).placement for e in recipe.entries if e.task == "counting"}


def bench_settings(per_subset: int, seed: int) -> dict:
    return {"per_subset": per_subset, "seed": seed, "recipe": RECIPE_NAME}


def _check_rerun(out: Path, settings: dict, overwrite: bool) -> None:
    path = out / BENCH_FILE
    if overwrite or not path.is_file():
        return
    old = json.loads(path.read_text(encoding="utf-8"))
    if old.get("viubench_version") != BENCH_VERSION:
        raise UserError(f"{out} holds VIUBench {old.get('viubench_version')!r}, not {BENCH_VERSION!r}; pass --overwrite to rebuild it, or choose another --out")
    changed = [f"{k} {old.get('settings', {}).get(k)!r} -> {v!r}" for k, v in settings.items() if old.get("settings", {}).get(k) != v]
    if changed:
        raise UserError(f"{out} was built with other settings ({'; '.join(changed)}); pass --overwrite to replace it, or choose another --out")


@lock_scope()
def build_bench(video_dir: str | os.PathLike, out: str | os.PathLike, *, per_subset: int = PAPER_PER_SUBSET, seed: int = 0,
                workers: int | None = None, progress: bool = True, engine: str = "local", overwrite: bool = False,
                export: bool = True) -> BenchReport:
    """Build a VIUBench folder with ``per_subset`` items in each of the 9 subsets (resumable)."""
    from videossr.build import build
    from videossr.outputs import claim_output
    from videossr.recipe import load_recipe

    if per_subset < 1:
        raise UserError(f"--per-subset must be >= 1, got {per_subset}")
    out = Path(out)
    settings = bench_settings(per_subset, seed)
    claim_output(Path(video_dir), out, kind="viubench", overwrite=overwrite)
    _check_rerun(out, settings, overwrite)
    recipe = replace(load_recipe(RECIPE_NAME), seed=seed)
    atomic.write_json(out / BENCH_FILE, {"viubench_version": BENCH_VERSION, "format": BENCH_FORMAT, "settings": settings, "complete": False})
    report = build(video_dir, out / BUILD_DIR, recipe, size=len(SUBSETS) * per_subset, workers=workers, progress=progress,
                   engine=engine, overwrite=overwrite)
    records = _records(out)
    exported = export and bool(records)
    if exported:
        _export(out, records, progress, workers)
    counts = {name: 0 for name in SUBSETS} | Counter(r["subset"] for r in records)
    reuse = video_reuse(records)
    items_path = atomic.write_jsonl(out / ITEMS_FILE, records)
    meta = {
        "viubench_version": BENCH_VERSION, "format": BENCH_FORMAT, "settings": settings, "complete": True,
        "seed": seed, "per_subset": per_subset, "counts": counts, "items": len(records),
        "fingerprint": hashlib.sha256(items_path.read_bytes()).hexdigest()[:16],
        "videos_used": len({r["video_id"] for r in records}), "video_reuse": reuse,
        "placement": counting_placements(recipe), "recipe": recipe.canonical(), "frames": {"num_frames": recipe.sampling.num_frames, "max_pixels": recipe.sampling.max_pixels},
        "files": {"items": ITEMS_FILE, "build": BUILD_DIR, "eval": f"{EVAL_DIR}/eval.json" if exported else None},
    }
    if exported:  # name the bench in its export too, so replay binds predictions of either to the same items
        eval_json = out / EVAL_DIR / "eval.json"
        atomic.write_json(eval_json, [{**e, "bench": meta["fingerprint"]} for e in json.loads(eval_json.read_text(encoding="utf-8"))])
    atomic.write_json(out / BENCH_FILE, meta)
    return BenchReport(out, counts, per_subset, meta["videos_used"], reuse, report.summary_text(), exported)


def _records(out: Path) -> list[dict]:
    """items.jsonl records from the build's per-entry parquets, paper order, paths relative to ``out``."""
    import pyarrow.parquet as pq

    root = out.resolve()
    records = []
    for name in SUBSETS:
        path = out / BUILD_DIR / "tasks" / f"{SUBSET_INFO[name].entry_key}.parquet"
        if not path.is_file():
            continue
        for row in pq.read_table(path).to_pylist():
            for video in row["videos"]:
                video["video"] = [Path(p).relative_to(root).as_posix() for p in video["video"]]
            records.append(item_record(row))
    return sorted(records, key=lambda r: (SUBSETS.index(r["subset"]), r["id"]))


def video_reuse(records: list[dict]) -> dict[str, dict]:
    """Subsets in which some video made more than one item: {subset: {"items", "videos"}}."""
    videos: dict[str, list[str]] = defaultdict(list)
    for r in records:
        videos[r["subset"]].append(r["video_id"])
    return {name: {"items": len(v), "videos": len(set(v))} for name, v in videos.items() if len(set(v)) < len(v)}


def _export(out: Path, records: list[dict], progress: bool, workers: int | None = None) -> None:
    """The evaluation export into ``out/eval`` (eval.json in item order, with version and subset)."""
    from videossr.export import export_eval

    eval_json = export_eval(out / BUILD_DIR, out / EVAL_DIR, progress=progress, workers=workers)
    by_id = {entry["video"]: entry for entry in json.loads(eval_json.read_text(encoding="utf-8"))}
    entries = []
    for r in records:
        entry = by_id[r["id"]]
        entries.append({**entry, "id": r["id"], "subset": r["subset"], "viubench_version": BENCH_VERSION, "system_prompt": r["system_prompt"]})
        r["eval_files"] = [f"{EVAL_DIR}/{name}" for name in entry["video_files"]]
    atomic.write_json(eval_json, entries)
