"""``videossr diagnose``: sample k answers per question and measure how many groups carry GRPO signal.

``diagnose(target_path, backend, out_dir, k=8, temperature=1.0, ...)`` loads the target as
``videossr eval`` does (a build dataset, a VIUBench folder, or an outside VQA/VTG JSON + videos),
answers every question k times through the resumable eval runner (``OUT/eval/``: predictions
and the response cache, so a rerun asks the model nothing again) and writes:

* ``OUT/diagnose.json`` — settings and one statistics row per task/variant, per task and overall
  (see :mod:`videossr.diagnose.stats`; format ``videossr-diagnose-1``);
* ``OUT/diagnose.png`` — one row per task, strict and smooth side by side;
* ``OUT/questions.jsonl`` — per question: correct answers out of k, mean and std of the smooth
  reward, zero-variance flags (e.g. to drop no-signal questions from a training set).

Rewards: questions of a videossr task (build datasets and VIUBench) are scored with our strict
and smooth rewards (``videossr.rewards``); outside VQA/VTG questions with the target's own
strict and main scores (option-letter accuracy, temporal IoU). Questions whose k answers could
not all be had (backend errors) are counted and left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from videossr import atomic
from videossr.backends.base import DEFAULT_MAX_TOKENS, Backend
from videossr.diagnose.plot import plot_diagnosis
from videossr.diagnose.stats import Group, GroupStats, format_table, identical_texts_warning, std_bin_edges, summarize
from videossr.errors import UserError
from videossr.rewards import TASKS as REWARD_TASKS
from videossr.rewards import compute, data_source_for

DIAGNOSE_FORMAT = "videossr-diagnose-1"
EVAL_DIR, JSON_FILE, PNG_FILE, QUESTIONS_FILE = "eval", "diagnose.json", "diagnose.png", "questions.jsonl"


@dataclass
class Diagnosis:
    out: Path
    stats: list[GroupStats]
    groups: list[Group]
    errors: int  # questions the backend failed on (or whose input could not be read)
    incomplete: int  # questions with fewer than k scored answers
    asked: int  # questions passed to the backend in this run (0 when all came from the cache)
    png: Path | None = None  # the figure, when there was anything to plot
    warning: str | None = None  # e.g. most groups got k identical texts although the run sampled

    def summary_text(self) -> str:
        lines = [format_table(self.stats)] if self.stats else ["no question could be scored"]
        if self.warning:
            lines.append(f"warning: {self.warning}")
        if self.errors or self.incomplete:
            lines.append(f"left out: {self.errors} question(s) with backend/input errors, {self.incomplete} with fewer than k answers (see {self.out / EVAL_DIR / 'predictions.jsonl'})")
        lines.append(f"asked the backend for {self.asked} question(s) (the rest came from the cache or earlier runs)")
        lines.append(f"wrote {', '.join(str(p) for p in (self.out / JSON_FILE, self.png, self.out / QUESTIONS_FILE) if p is not None)}")
        return "\n".join(lines)


def labels(groups: dict, fallback: str) -> tuple[str, str]:
    """(task, variant) of an eval item from its group labels (``subset`` stands in for both)."""
    task = groups.get("task") or groups.get("subset") or fallback
    variant = groups.get("variant") or groups.get("subset") or task
    return str(task), str(variant)


def groups_from_predictions(target, predictions: dict[str, dict], k: int) -> tuple[list[Group], int, int]:
    """(groups with exactly k scored answers, errors, incomplete) for the items of ``target``."""
    groups, errors, incomplete = [], 0, 0
    for item in target.items:
        row = predictions.get(item.id)
        if row is None or row.get("error"):
            errors += 1
            continue
        task, variant = labels(row.get("groups") or dict(item.groups), target.kind)
        strict, smooth, format_ok = _rewards(task, row, item.ground_truth)
        if len(strict) < k or len(smooth) < k:
            incomplete += 1
            continue
        texts = (row.get("outputs") or [])[:k]
        groups.append(Group(item.id, task, variant, tuple(strict[:k]), tuple(smooth[:k]), tuple(format_ok[:k]), identical_texts=len(texts) == k and len(set(texts)) == 1))
    return groups, errors, incomplete


def _rewards(task: str, row: dict, ground_truth: str) -> tuple[list, list, list]:
    """Strict, smooth, format_ok per output: our rewards for a videossr task (VIUBench items too,
    whose benchmark metric is not the smooth reward), the target's own scores otherwise."""
    if task in REWARD_TASKS:
        results = [compute(data_source_for(task), text, ground_truth) for text in row.get("outputs") or []]
        return [r.strict for r in results], [r.score for r in results], [r.format_ok for r in results]
    strict, smooth = row.get("strict") or [], row.get("scores") or []
    return strict, smooth, row.get("format_ok") or [True] * len(strict)


def model_words(identity: dict) -> str:
    """A backend identity in words: ``synthetic (skill=6.0, spread=1.0, version=1)``."""
    words = " ".join(str(identity[k]) for k in ("backend", "model") if identity.get(k)) or "model"
    rest = ", ".join(f"{k}={v}" for k, v in sorted(identity.items()) if k not in ("model", "backend", "content", "commit", "path") and v is not None
                     and not isinstance(v, (dict, list)))
    return words + (f" ({rest})" if rest else "")


def question_rows(groups: list[Group]) -> list[dict]:
    return [{"id": g.item_id, "task": g.task, "variant": g.variant, "k": g.k, "correct": g.correct,
             "smooth_mean": round(sum(g.smooth) / g.k, 6), "smooth_std": round(g.smooth_std, 6),
             "zero_variance_strict": g.zero_variance_strict, "zero_variance_smooth": g.zero_variance_smooth} for g in groups]


def diagnose_target(target, backend: Backend, out_dir: str | os.PathLike, *, k: int = 8, temperature: float = 1.0, max_tokens: int = DEFAULT_MAX_TOKENS,
                    seed: int = 0, top_p: float | None = None, top_k: int | None = None, repetition_penalty: float | None = None, progress: bool = True,
                    cache: str | os.PathLike | bool = True, overwrite: bool = False, plot: bool = True) -> Diagnosis:
    """Answer ``target`` k times per question with ``backend`` and write the diagnosis into ``out_dir``."""
    from videossr.evaluate.predictions import PREDICTIONS_FILE, read_predictions
    from videossr.evaluate.runner import run_eval

    if k < 2:
        raise UserError(f"k must be >= 2 to measure reward variance, got {k}")
    if temperature <= 0:
        raise UserError("temperature 0 is greedy decoding: the k answers would be identical and every group zero-variance by construction; "
                        "use the temperature of your RL rollouts (GRPO: 1.0)")
    out = Path(out_dir)
    report = run_eval(target, backend, out / EVAL_DIR, n=k, temperature=temperature, max_tokens=max_tokens, seed=seed, top_p=top_p, top_k=top_k,
                      repetition_penalty=repetition_penalty, progress=progress, cache=cache, overwrite=overwrite)
    groups, errors, incomplete = groups_from_predictions(target, read_predictions(out / EVAL_DIR / PREDICTIONS_FILE), k)
    stats = summarize(groups)
    identity = backend.identity()
    warning = identical_texts_warning(groups, temperature)
    atomic.write_json(out / JSON_FILE, {
        "format": DIAGNOSE_FORMAT, "target": {key: v for key, v in target.info.items() if key not in ("row_fields", "id_field")},
        "backend": identity, "sampling": {"k": k, **{key: v for key, v in report["run"]["sampling"].items() if key != "n"}},
        "identical_texts_share": (sum(g.identical_texts for g in groups) / len(groups)) if groups else None, "warnings": [warning] if warning else [],
        "questions": len(groups), "left_out": {"errors": errors, "incomplete": incomplete},
        "std_bin_edges": std_bin_edges(), "groups": [s.to_dict() for s in stats],
    })
    atomic.write_jsonl(out / QUESTIONS_FILE, question_rows(groups))
    png = None
    if plot and stats:
        name = Path(target.path).parent.name if Path(target.path).name == "train.parquet" else Path(target.path).name
        png = plot_diagnosis(stats, out / PNG_FILE, title=f"{name}: {model_words(identity)}, k={k}, temperature {temperature}")
    else:
        (out / PNG_FILE).unlink(missing_ok=True)  # never leave a figure of an earlier run beside this run's JSON
    return Diagnosis(out=out, stats=stats, groups=groups, errors=errors, incomplete=incomplete, asked=report["run"]["asked_backend"], png=png, warning=warning)


def diagnose(target_path: str | os.PathLike, backend: Backend | Callable[[object], Backend], out_dir: str | os.PathLike, *, k: int = 8, temperature: float = 1.0,
             limit: int | None = None, task: str | None = None, video_dir: str | os.PathLike | None = None, max_frames: int | None = None, **options) -> Diagnosis:
    """Load ``target_path`` like ``videossr eval`` and run :func:`diagnose_target` on it.

    ``backend`` is a backend, or a function of the loaded target that makes one (a replay
    backend matches answers to items by id through the target).
    """
    from videossr.evaluate.loading import load_target
    from videossr.evaluate.target import DEFAULT_MAX_FRAMES
    from videossr.outputs import claim_output

    out = Path(out_dir)
    claim_output(None, out, kind="diagnose")
    target = load_target(target_path, task=task, video_dir=video_dir, max_frames=max_frames or DEFAULT_MAX_FRAMES, limit=limit,
                         work_dir=out / "frames", progress=options.get("progress", True))
    if not isinstance(backend, Backend):
        backend = backend(target)
    return diagnose_target(target, backend, out, k=k, temperature=temperature, **options)
