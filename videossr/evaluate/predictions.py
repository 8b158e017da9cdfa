"""The predictions file: JSONL, one line per answered (or failed) item, written as results come.

A line (``PREDICTIONS_VERSION`` 1)::

    {"id": "grounding-mirror-000001", "response": "3.5-6.7", "outputs": ["3.5-6.7"],
     "parsed": ["3.5-6.7"], "scores": [0.82], "strict": [0.0], "format_ok": [true],
     "error": null, "latency_s": 0.41, "cached": false, "answer": "3.4-6.7",
     "groups": {"task": "grounding", "variant": "mirror"}, "target": "dataset:3f0c...",
     "request_key": "9b1e...", "prompt": "..."}

``target`` binds the line to the target it answers (:attr:`Target.fingerprint`: kind + content
digest): resume and replay match a line on (target, id) and refuse lines of another target.
``prompt`` (with ``--log-prompts``) is the request as the backend rendered it.

``outputs`` holds all n texts of the item, and ``parsed``/``scores``/``strict``/``format_ok``
one entry per output; ``response`` is the first output (what ``videossr score`` and the VIUBench
scorer read). A failed item has ``error`` set and empty lists. Lines are appended and flushed
one by one, so after ``kill -9`` the file holds every finished item (a torn last line is
dropped on resume; a malformed line anywhere else is an error naming it); at the end of a run the file is rewritten atomically, one line per item,
in target order, so an interrupted-and-resumed run leaves the same file as an uninterrupted
one (up to ``latency_s`` and ``cached``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from videossr import atomic
from videossr.errors import UserError

PREDICTIONS_FILE = "predictions.jsonl"
PREDICTIONS_VERSION = 1


def read_predictions(path: Path, *, target: str | None = None) -> dict[str, dict]:
    """The last line per id of a predictions file.

    Only a torn final line (no newline: the process died mid-write) is cut off the file; any
    other line that is not a JSON object with an ``id`` is an error naming the file and line, and
    so is a line bound to another target than ``target`` (a :attr:`Target.fingerprint`).
    """
    rows: dict[str, dict] = {}
    if not path.is_file():
        return rows
    with open(path, "rb") as fh:
        data = fh.read()
    lines = data.splitlines(keepends=True)
    good_end = 0
    for number, line in enumerate(lines, 1):
        if not line.endswith(b"\n") and number == len(lines):
            break  # torn by an interruption mid-write: the only line that may be dropped
        try:
            row = json.loads(line) if line.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            row = "malformed"
        good_end += len(line)
        if row is None:
            continue
        if not isinstance(row, dict) or "id" not in row:
            raise UserError(f"{path}:{number}: not a predictions line (a JSON object with an id); fix or remove that line, or use --overwrite")
        if target is not None and row.get("target") not in (None, target):
            raise UserError(f"{path}:{number}: answers target {row.get('target')!r}, not this one ({target!r}); use another --out, or --overwrite")
        rows[str(row["id"])] = row
    if good_end != len(data):
        with open(path, "r+b") as fh:
            fh.truncate(good_end)
    return rows


class PredictionsWriter:
    """Appends one JSON line per result and flushes it (survives ``kill -9`` of the process)."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "a", encoding="utf-8")

    def write(self, row: dict) -> None:
        self._fh.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            os.fsync(self._fh.fileno())
            self._fh.close()


def compact(path: Path, rows: dict[str, dict], order: list[str]) -> None:
    """Rewrite the file atomically: one line per id, ids of ``order`` first (in order), then the rest sorted."""
    listed = set(order)
    ids = [i for i in order if i in rows] + sorted(i for i in rows if i not in listed)
    atomic.write_jsonl(path, (rows[i] for i in ids))
