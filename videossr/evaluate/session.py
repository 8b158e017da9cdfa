"""One evaluation from paths and names: the library call behind ``videossr eval``.

:func:`evaluate` loads the target, builds the backend (``get_backend(name, **options)``), and
either renders one request (``dry_run``) or runs :func:`~videossr.evaluate.runner.run_eval`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from videossr.backends.base import DEFAULT_MAX_TOKENS, backend_names, get_backend
from videossr.errors import UserError
from videossr.evaluate.predictions import PREDICTIONS_FILE
from videossr.evaluate.runner import REPORT_FILE, run_eval
from videossr.evaluate.target import DEFAULT_MAX_FRAMES, load_target

FRAMES_DIR = "frames"


@dataclass(frozen=True)
class EvalOutcome:
    """``text``: what to print (the table, or the rendered request of a dry run)."""

    text: str
    report: dict | None
    items: int
    errors: int
    out: Path

    @property
    def answered(self) -> int:
        return self.items - self.errors


def evaluate(target_path: str | os.PathLike, *, backend: str, out: str | os.PathLike, backend_options: dict | None = None, task: str | None = None,
             video_dir: str | os.PathLike | None = None, max_frames: int = DEFAULT_MAX_FRAMES, limit: int | None = None, dry_run: bool = False,
             n: int = 1, temperature: float = 0.0, max_tokens: int = DEFAULT_MAX_TOKENS, seed: int = 0, cache: str | os.PathLike | bool = True,
             overwrite: bool = False, progress: bool = True, fps: float | None = None, prompt_template: str | None = None,
             label: str | None = None) -> EvalOutcome:
    if backend not in backend_names():
        get_backend(backend)  # raises the did-you-mean error before any work
    out = Path(out)
    target = load_target(target_path, task=task, video_dir=video_dir, max_frames=max_frames, limit=1 if dry_run and limit is None else limit,
                         work_dir=out / FRAMES_DIR, progress=progress, fps=fps, prompt_template=prompt_template)
    if not target.items:
        raise UserError(f"{target_path} holds no items")
    options = dict(backend_options or {})
    if backend == "replay":
        options["target"] = target
    model = get_backend(backend, **options)
    try:
        if dry_run:
            first = next((item for item in target.items if item.request is not None), None)
            if first is None:
                raise UserError(f"no item of {target_path} could be read: {target.items[0].load_error}")
            text = f"# item {first.id} (answer {first.ground_truth!r}), backend {model.identity()}\n{model.render(first.request)}"
            return EvalOutcome(text=text, report=None, items=len(target.items), errors=0, out=out)
        report = run_eval(target, model, out, n=n, temperature=temperature, max_tokens=max_tokens, seed=seed, progress=progress, cache=cache, overwrite=overwrite,
                            label=label)
    finally:
        model.close()
    run = report["run"]
    lines = [target.format_table(report), "",
             f"{run['items']} items, {run['errors']} errors, {run['answered_this_run']} answered this run ({run['asked_backend']} asked the backend)",
             f"predictions: {out / PREDICTIONS_FILE}", f"report:      {out / REPORT_FILE}"]
    return EvalOutcome(text="\n".join(lines), report=report, items=run["items"], errors=run["errors"], out=out)
