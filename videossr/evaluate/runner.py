"""Run a backend over a target: predictions as they come, resumable, then the report.

``run_eval(target, backend, out_dir, ...)`` writes into ``out_dir``:

* ``run.json``: target, backend identity (for a local checkpoint: a digest of its files, see
  :mod:`videossr.backends.identity`) and every sampling setting; a rerun with other settings, or a
  retrained model in the same folder, is refused (use another ``out_dir`` or ``overwrite=True``);
* ``predictions.jsonl`` (see :mod:`videossr.evaluate.predictions`): a rerun skips items already
  answered (matched on target fingerprint and item id) and asks again for those that failed;
* ``cache.sqlite`` (unless another cache file is given): the response cache; ``overwrite=True``
  starts it afresh (a shared ``cache`` file is kept: its keys hold the model's identity by
  content, so another model never reads its answers);
* ``report.json``: the target's report plus run counts (items, errors, asked, items/s).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

from tqdm import tqdm

from videossr import atomic
from videossr.backends.base import DEFAULT_MAX_TOKENS, Backend, Generation, SamplingSettings
from videossr.backends.cache import CachedBackend
from videossr.errors import UserError
from videossr.evaluate.report import default_label
from videossr.evaluate.predictions import PREDICTIONS_FILE, PREDICTIONS_VERSION, PredictionsWriter, compact, read_predictions
from videossr.evaluate.target import EvalItem, ItemScore, Target

RUN_FILE, REPORT_FILE, CACHE_FILE = "run.json", "report.json", "cache.sqlite"


def _check_run(out: Path, run: dict, overwrite: bool) -> None:
    path = out / RUN_FILE
    if overwrite:
        for name in (PREDICTIONS_FILE, REPORT_FILE, RUN_FILE):
            (out / name).unlink(missing_ok=True)
    elif path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            raise UserError(f"{path} is not readable JSON; use another --out, or --overwrite to start again") from None
        changed = [k for k in ("target", "backend", "sampling") if old.get(k) != run.get(k)]
        if changed:
            raise UserError(f"{out} holds predictions made with other {', '.join(changed)} settings; use another --out, or --overwrite to start again")
    atomic.write_json(path, run)


def item_row(target: Target, item: EvalItem, generation: Generation, prompt: str | None = None) -> dict:
    """The predictions line of one item (see :mod:`videossr.evaluate.predictions`)."""
    scores: list[ItemScore] = [target.score(item, text) for text in generation.texts] if generation.ok else []
    row = {
        "id": item.id,
        "response": generation.texts[0] if generation.texts else None,
        "outputs": list(generation.texts),
        "parsed": [s.parsed for s in scores],
        "scores": [s.score for s in scores],
        "strict": [s.strict for s in scores],
        "format_ok": [s.format_ok for s in scores],
        "error": generation.error,
        "latency_s": round(generation.latency_s, 4),
        "cached": generation.cached,
        "answer": item.ground_truth,
        "request_key": item.request.key() if item.request is not None else None,
        "groups": dict(item.groups),
        "target": target.fingerprint,
    }
    if prompt is not None:
        row["prompt"] = prompt
    extra = [dict(s.metrics) for s in scores]
    if any(extra):
        row["metrics"] = extra
    row.update(target.info.get("row_fields", {}))
    if target.info.get("id_field"):
        row[target.info["id_field"]] = item.id
    return row


def row_scores(row: dict) -> list[ItemScore]:
    """The :class:`ItemScore` list stored in a predictions line (empty for a failed item)."""
    metrics = row.get("metrics") or [{}] * len(row.get("scores", []))
    return [
        ItemScore(score=s, strict=st, parsed=p, format_ok=f, metrics=tuple(sorted(m.items())))
        for s, st, p, f, m in zip(row.get("scores", []), row.get("strict", []), row.get("parsed", []), row.get("format_ok", []), metrics)
    ]


def run_eval(target: Target, backend: Backend, out_dir: str | os.PathLike, *, n: int = 1, temperature: float = 0.0, max_tokens: int = DEFAULT_MAX_TOKENS,
             seed: int = 0, top_p: float | None = None, top_k: int | None = None, repetition_penalty: float | None = None, progress: bool = True,
             cache: str | os.PathLike | bool = True, overwrite: bool = False, log_prompts: bool = False,
             label: str | None = None) -> dict:
    """Answer every item of ``target`` with ``backend`` (n outputs each) and return the report.

    Resumable: items already in ``out_dir/predictions.jsonl`` without an error are skipped,
    failed ones asked again. ``cache``: True = ``out_dir/cache.sqlite``, a path = that file
    (share it between runs), False = no cache. ``log_prompts`` writes each item's rendered
    request into its predictions line (``prompt``). ``label`` names the model in the report (default:
    the backend's model, the end of a long path).
    """
    settings = SamplingSettings(n=n, temperature=temperature, max_tokens=max_tokens, seed=seed, top_p=top_p, top_k=top_k, repetition_penalty=repetition_penalty)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    run = {"predictions_version": PREDICTIONS_VERSION, "target": target.info, "target_fingerprint": target.fingerprint, "backend": backend.identity(),
           "sampling": settings.to_dict()}
    _check_run(out, run, overwrite)
    pred_path = out / PREDICTIONS_FILE
    rows = read_predictions(pred_path, target=target.fingerprint)
    todo = [item for item in target.items if item.id not in rows or rows[item.id].get("error")]
    if cache is True and overwrite:
        for suffix in ("", "-wal", "-shm"):
            (out / (CACHE_FILE + suffix)).unlink(missing_ok=True)
    runner = CachedBackend(backend, out / CACHE_FILE if cache is True else cache) if cache and backend.cacheable else backend
    writer = PredictionsWriter(pred_path)
    started = time.perf_counter()
    try:
        _answer(target, runner, todo, settings, rows, writer, progress, log_prompts)
    finally:
        writer.close()
        if isinstance(runner, CachedBackend):
            runner.cache.close()
    elapsed = time.perf_counter() - started
    compact(pred_path, rows, [item.id for item in target.items])
    identity = run["backend"]
    label = label or default_label(identity)
    report = target.report({item.id: row_scores(rows[item.id]) for item in target.items if item.id in rows and not rows[item.id].get("error")}, label=label)
    errors = sum(1 for item in target.items if rows.get(item.id, {}).get("error"))
    failed_now = sum(1 for item in todo if rows[item.id].get("error"))
    report["run"] = {
        **run,
        "items": len(target.items),
        "answered": len(target.items) - errors - sum(1 for item in target.items if item.id not in rows),
        "answered_this_run": len(todo) - failed_now,
        "failed_this_run": failed_now,
        "asked_backend": runner.asked if isinstance(runner, CachedBackend) else len(todo),
        "errors": errors,
        "elapsed_s": round(elapsed, 3),
        "items_per_s": round(len(todo) / elapsed, 3) if elapsed > 0 and todo else None,
    }
    atomic.write_json(out / REPORT_FILE, report)
    return report


def _answer(target: Target, backend: Backend, todo: list[EvalItem], settings: SamplingSettings, rows: dict, writer: PredictionsWriter, progress: bool,
            log_prompts: bool = False) -> None:
    askable = [item for item in todo if item.request is not None]
    requests = [dataclasses.replace(item.request, id=item.id) for item in askable]  # each item answered for itself
    bar = tqdm(total=len(todo), desc="eval", unit="item", disable=not progress, dynamic_ncols=True)
    try:
        for item in todo:
            if item.request is None:  # unreadable input: recorded, asked again next run
                rows[item.id] = item_row(target, item, Generation(error=item.load_error or "no request"))
                writer.write(rows[item.id])
                bar.update(1)
        for index, generation in backend.generate_iter(requests, settings):
            item = askable[index]
            rows[item.id] = item_row(target, item, generation, backend.prompt(requests[index]) if log_prompts else None)
            writer.write(rows[item.id])
            bar.update(1)
    finally:
        bar.close()
