"""``videossr calibrate``: turn a task's difficulty knobs until the model scores the target reward.

``calibrate(video_dir, backend, task, ...)`` walks the task's ladder
(:mod:`videossr.diagnose.ladders`) with :func:`videossr.diagnose.search.search`. Each probe
builds a small seeded set of ``probe_size`` samples of one rung with ``videossr.build.build``
(the same seed for every rung, so every probe draws from the same videos) and diagnoses it with
k answers per question. Everything lives in the work folder (default: the recipe path with
``.calibrate`` in place of ``.yaml``)::

    WORK/probes/<NN>-<rung>/dataset/    the probe's build
    WORK/probes/<NN>-<rung>/            diagnose.json, questions.jsonl, eval/ (predictions)
    WORK/cache.sqlite                   one response cache for all probes (a rerun asks nothing again)
    WORK/calibrate.json                 settings, every probe, the choice and why

When no probe shows any reward variance (every question's k answers score alike: a model that
never gives a usable answer), :class:`CalibrationRefused` is raised and no recipe is written. A
run that is refused (this, or a probe that cannot be built or answered) removes the work folder it
created; a work folder from an earlier run is kept, and so is an interrupted run's (a rerun resumes).

The recipe written to ``out`` is a plain recipe YAML (one entry: the chosen rung) that
``videossr build --recipe`` accepts as it is, headed by comments saying how it was found.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from videossr import atomic
from videossr.backends.base import DEFAULT_MAX_TOKENS, Backend
from videossr.diagnose.ladders import Ladder, Rung, get_ladder
from videossr.diagnose.runner import diagnose_target, model_words
from videossr.diagnose.search import Probe, SearchResult, search
from videossr.diagnose.stats import ALL
from videossr.errors import UserError
from videossr.recipe import Recipe, parse_recipe

CALIBRATE_FORMAT = "videossr-calibrate-1"
PROBE_TABLE_HEAD = f"{'rung':>4}  {'setting':<34}{'questions':>9}{'smooth':>8}{'strict':>8}{'zero-var smooth':>17}{'zero-var strict':>17}"


class CalibrationRefused(RuntimeError):
    """No probe gave the model's answers any reward variance: a recipe would teach it nothing (exit 1, no recipe)."""


@dataclass(frozen=True)
class CalibrationSettings:
    target: float = 0.5
    tolerance: float = 0.05
    probe_size: int = 64
    k: int = 8
    temperature: float = 1.0
    max_tokens: int = DEFAULT_MAX_TOKENS
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.target <= 1:
            raise UserError(f"--target is a mean smooth reward in [0, 1], got {self.target}")
        if not 0 < self.tolerance < 1:
            raise UserError(f"--tolerance must be in (0, 1), got {self.tolerance}")
        if self.temperature <= 0:
            raise UserError("calibrate needs a sampling temperature > 0: greedy answers are identical, so no group could show reward variance")
        if self.probe_size < 1 or self.k < 2:
            raise UserError(f"need --probe >= 1 and -k >= 2 (reward variance needs two answers), got {self.probe_size}, {self.k}")


@dataclass
class Calibration:
    task: str
    ladder: Ladder
    result: SearchResult
    recipe_path: Path
    work_dir: Path

    @property
    def rung(self) -> Rung:
        return self.ladder.rungs[self.result.chosen.index]

    def direction(self) -> str:
        default = self.ladder.rungs[self.ladder.default].label
        chosen = self.result.chosen.index
        if chosen == self.ladder.default:
            return f"the default setting ({default})"
        return f"{'harder' if chosen > self.ladder.default else 'easier'} than the default ({default})"

    def summary_text(self) -> str:
        c = self.result.chosen
        return "\n".join([
            f"chose {self.task} rung {c.index}: {c.label} — mean smooth reward {c.mean_smooth:.3f} (target {self.result.target} ± {self.result.tolerance}), "
            f"{c.signal_share:.0%} of groups with reward variance; {self.direction()}",
            f"why: {self.result.reason}",
            f"wrote {self.recipe_path} (build it with: videossr build VIDEO_DIR --out OUT --recipe {self.recipe_path})",
            f"probes, datasets and predictions: {self.work_dir}",
        ])


def probe_line(p: Probe) -> str:
    """One row of the probe table (see ``PROBE_TABLE_HEAD``)."""
    return f"{p.index:>4}  {p.label:<34}{p.questions:>9}{p.mean_smooth:>8.3f}{p.mean_strict:>8.3f}{p.zero_variance_smooth:>17.1%}{p.zero_variance_strict:>17.1%}"


def rung_recipe(task: str, rung: Rung, *, seed: int, name: str | None = None) -> dict:
    """The recipe (plain data, as YAML holds it) that builds ``rung`` alone."""
    return {"name": name or f"calibrate-{task}", "seed": seed, "entries": [rung.entry(task)]}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def recipe_text(cal: Calibration, recipe: Recipe, identity: dict, settings: CalibrationSettings, video_dir: Path) -> str:
    """The calibrated recipe YAML: comments on how it was found, then the recipe itself."""
    r = cal.result
    lines = [
        f"# Calibrated by `videossr calibrate` for task {cal.task} ({cal.ladder.knobs}).",
        f"# Model: {model_words(identity)}; k={settings.k} answers per question, temperature {settings.temperature}.",
        f"# Target: mean smooth reward {settings.target} ± {settings.tolerance}, on probe sets of {settings.probe_size} samples "
        f"(seed {settings.seed}) built from {video_dir}.",
        f"# Result: {r.reason}.",
        f"# Chosen: rung {r.chosen.index} ({r.chosen.label}), {cal.direction()}: mean smooth {r.chosen.mean_smooth:.3f}, "
        f"strict {r.chosen.mean_strict:.3f}, {r.chosen.signal_share:.0%} of groups with reward variance.",
        f"# Probes (in the order run; ladder rung 0 = easiest, {len(cal.ladder) - 1} = hardest):",
        "# " + PROBE_TABLE_HEAD,
        *("# " + probe_line(p) for p in r.probes),
    ]
    body = {"name": recipe.name, "description": f"{cal.task} at mean smooth reward {r.chosen.mean_smooth:.2f} for {identity.get('model') or identity.get('backend')}",
            "seed": recipe.seed, "sampling": {"num_frames": recipe.sampling.num_frames},
            "training_pixels": {"max_pixels": recipe.train_max_pixels, "min_pixels": recipe.train_min_pixels},
            "entries": [cal.rung.entry(cal.task)]}
    return "\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False, default_flow_style=None, width=120)


def default_work_dir(recipe_path: Path) -> Path:
    return recipe_path.with_name(recipe_path.stem + ".calibrate")


def _probe_fn(video_dir: Path, work: Path, ladder: Ladder, backend: Backend, settings: CalibrationSettings, workers: int | None, progress: bool) -> Callable[[int], Probe]:
    from videossr.build import build
    from videossr.evaluate.loading import load_target

    def probe(index: int) -> Probe:
        rung = ladder.rungs[index]
        folder = work / "probes" / f"{index:02d}-{_slug(rung.label)}"
        recipe = parse_recipe(rung_recipe(ladder.task, rung, seed=settings.seed))
        report = build(video_dir, folder / "dataset", recipe, size=settings.probe_size, workers=workers, progress=False, overwrite=True)
        if report.rows == 0:
            raise UserError(f"no {ladder.task} sample could be built from {video_dir} at rung {rung.label} (see {folder / 'dataset' / 'skipped.jsonl'})")
        target = load_target(folder / "dataset")
        diagnosis = diagnose_target(target, backend, folder, k=settings.k, temperature=settings.temperature, max_tokens=settings.max_tokens,
                                    seed=settings.seed, progress=progress, cache=work / "cache.sqlite", overwrite=True, plot=False)
        overall = next((s for s in diagnosis.stats if s.task == ALL), None)
        if overall is None:
            raise UserError(f"the backend answered no probe question of rung {rung.label} (see {folder / 'eval' / 'predictions.jsonl'})")
        return Probe(index=index, label=rung.label, questions=overall.questions, mean_smooth=overall.mean_smooth, mean_strict=overall.mean_strict,
                     zero_variance_smooth=overall.zero_variance_smooth, zero_variance_strict=overall.zero_variance_strict,
                     histogram=overall.histogram, entry=rung.entry(ladder.task), dataset=str(folder / "dataset"))

    return probe


def calibrate(video_dir: str | os.PathLike, backend: Backend, task: str, *, out: str | os.PathLike = "recipe.yaml", work_dir: str | os.PathLike | None = None,
              settings: CalibrationSettings = CalibrationSettings(), start: str | None = None, workers: int | None = None, progress: bool = True,
              on_probe: Callable[[Probe], None] | None = None) -> Calibration:
    """Search ``task``'s ladder for the rung the model scores ``settings.target`` on; write the recipe to ``out``.

    ``start`` is the label of the first rung probed (default: the task's default setting);
    ``on_probe`` is called with each probe as it finishes.
    """
    from videossr.outputs import claim_output

    video_dir, out = Path(video_dir), Path(out)
    if out.suffix not in (".yaml", ".yml"):
        raise UserError(f"--out {out} must be a .yaml file (it is the recipe written)")
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give the recipe file to write, e.g. {out / 'recipe.yaml'}")
    ladder = get_ladder(task)
    first = ladder.default if start is None else ladder.index(start)  # a bad --start is refused before any folder is made
    work = Path(work_dir) if work_dir is not None else default_work_dir(out)
    existed = work.exists()
    claim_output(video_dir, work, kind="calibrate")
    try:
        probe = _probe_fn(video_dir, work, ladder, backend, settings, workers, progress)
        result = search(len(ladder), probe, target=settings.target, tolerance=settings.tolerance, start=first, on_probe=on_probe)
        if all(p.signal_share <= 0 for p in result.probes):
            raise CalibrationRefused(
                f"no recipe written: in all {len(result.probes)} probed setting(s) every question's {settings.k} answers got the same reward "
                f"(0% of groups with reward variance, mean smooth {', '.join(f'{p.mean_smooth:.3f}' for p in result.probes)}); "
                f"check the model's answers with videossr diagnose, or its prompt and --max-tokens")
    except (CalibrationRefused, UserError):
        if not existed:  # a refused run leaves no folder of its own behind (an interrupted one keeps its work for the rerun)
            shutil.rmtree(work, ignore_errors=True)
        raise
    cal = Calibration(task=task, ladder=ladder, result=result, recipe_path=out, work_dir=work)
    recipe = parse_recipe(rung_recipe(task, cal.rung, seed=settings.seed, name=f"calibrated-{task}"))
    identity = backend.identity()
    atomic.write_text(out, recipe_text(cal, recipe, identity, settings, video_dir))
    atomic.write_json(work / "calibrate.json", {
        "format": CALIBRATE_FORMAT, "task": task, "video_dir": str(video_dir), "backend": identity,
        "settings": {"target": settings.target, "tolerance": settings.tolerance, "probe_size": settings.probe_size, "k": settings.k,
                     "temperature": settings.temperature, "max_tokens": settings.max_tokens, "seed": settings.seed},
        "ladder": [{"index": i, "label": r.label, "entry": r.entry(task)} for i, r in enumerate(ladder.rungs)], "default": ladder.default,
        "probes": [p.to_dict() for p in result.probes], "chosen": result.chosen.index, "reached_target": result.reached,
        "reason": result.reason, "recipe": str(out),
    })
    return cal
