"""One evaluation from paths and names: the library call behind ``videossr eval``.

:func:`evaluate` loads the target, builds the backend (``get_backend(name, **options)``), and
either renders one request (``dry_run``) or runs :func:`~videossr.evaluate.runner.run_eval`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from videossr.backends.base import DEFAULT_MAX_TOKENS, SamplingSettings, backend_names, get_backend
from videossr.errors import UserError
from videossr.evaluate.predictions import PREDICTIONS_FILE
from videossr.evaluate.runner import REPORT_FILE, run_eval
from videossr.evaluate.loading import load_target
from videossr.evaluate.target import DEFAULT_MAX_FRAMES, Target
from videossr.outputs import claim_output, lock_scope

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


def text_or_file(value: str | None, option: str) -> str | None:
    """A text option (``--system-prompt``, ``--prompt-template``): the text of the file ``value`` names, else ``value`` itself."""
    if value is None:
        return None
    path = Path(value)
    try:
        if len(value) < 4096 and "\n" not in value and path.is_file():
            return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {option} file {path}: {exc}") from None
    return value


def with_system_prompt(target: Target, system: str) -> Target:
    """``target`` with every item's system prompt replaced (recorded in ``info["system_prompt"]``)."""
    items = tuple(dataclasses.replace(item, request=dataclasses.replace(item.request, system=system)) if item.request is not None else item
                  for item in target.items)
    return dataclasses.replace(target, items=items, info={**target.info, "system_prompt": system})


@lock_scope()
def evaluate(target_path: str | os.PathLike, *, backend: str, out: str | os.PathLike, backend_options: dict | None = None, task: str | None = None,
             video_dir: str | os.PathLike | None = None, max_frames: int = DEFAULT_MAX_FRAMES, limit: int | None = None, dry_run: bool = False,
             n: int = 1, temperature: float = 0.0, max_tokens: int = DEFAULT_MAX_TOKENS, seed: int = 0, top_p: float | None = None,
             top_k: int | None = None, repetition_penalty: float | None = None, system_prompt: str | None = None, log_prompts: bool = False,
             cache: str | os.PathLike | bool = True, overwrite: bool = False, progress: bool = True, parser: str | None = None,
             fps: float | None = None, prompt_template: str | None = None, label: str | None = None) -> EvalOutcome:
    if backend not in backend_names():
        get_backend(backend)  # raises the did-you-mean error before any work
    SamplingSettings(n=n, temperature=temperature, max_tokens=max_tokens, seed=seed, top_p=top_p, top_k=top_k, repetition_penalty=repetition_penalty)
    out = Path(out)
    claim_output(None, out, kind="eval", overwrite=overwrite, inputs=(target_path, video_dir))
    target = load_target(target_path, task=task, video_dir=video_dir, max_frames=max_frames, limit=1 if dry_run and limit is None else limit,
                         work_dir=out / FRAMES_DIR, progress=progress, parser=parser,
                         fps=fps, prompt_template=prompt_template)
    if not target.items:
        raise UserError(f"{target_path} holds no items")
    if system_prompt is not None:
        target = with_system_prompt(target, system_prompt)
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
        report = run_eval(target, model, out, n=n, temperature=temperature, max_tokens=max_tokens, seed=seed, top_p=top_p, top_k=top_k,
                          repetition_penalty=repetition_penalty, progress=progress, cache=cache, overwrite=overwrite, log_prompts=log_prompts,
                          label=label)
    finally:
        model.close()
    run = report["run"]
    head = [target.format_table(report), ""] if run["answered"] else [f"no item was answered: all {run['items']} failed (first error: {_first_error(out)})", ""]
    lines = head + [f"{run['items']} items, {run['errors']} errors, {run['answered_this_run']} answered this run ({run['asked_backend']} asked the backend)",
                    f"predictions: {out / PREDICTIONS_FILE}", f"report:      {out / REPORT_FILE}"]
    return EvalOutcome(text="\n".join(lines), report=report, items=run["items"], errors=run["errors"], out=out)


def _first_error(out: Path) -> str:
    from videossr.evaluate.predictions import read_predictions

    return next((str(row["error"]) for row in read_predictions(out / PREDICTIONS_FILE).values() if row.get("error")), "none recorded")
