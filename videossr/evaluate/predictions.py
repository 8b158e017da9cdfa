"""The predictions file: JSONL, one line per answered (or failed) item, written as results come.

A line (``PREDICTIONS_VERSION`` 1)::

    {"id": "grounding-mirror-000001", "response": "3.5-6.7", "outputs": ["3.5-6.7"],
     "parsed": ["3.5-6.7"], "scores": [0.82], "strict": [0.0], "format_ok": [true],
     "error": null, "latency_s": 0.41, "cached": false, "answer": "3.4-6.7",
     "groups": {"task": "grounding", "variant": "mirror"}}

``outputs`` holds all n texts of the item, and ``parsed``/``scores``/``strict``/``format_ok``
one entry per output; ``response`` is the first output (what ``videossr score`` and the VIUBench
scorer read). A failed item has ``error`` set and empty lists. Lines are appended and flushed
one by one, so after ``kill -9`` the file holds every finished item (a torn last line is
dropped on resume); at the end of a run the file is rewritten atomically, one line per item,
in target order, so an interrupted-and-resumed run leaves the same file as an uninterrupted
one (up to ``latency_s`` and ``cached``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from videossr import atomic

PREDICTIONS_FILE = "predictions.jsonl"
PREDICTIONS_VERSION = 1


def read_predictions(path: Path) -> dict[str, dict]:
    """The last line per id of a predictions file; a torn final line is cut off the file."""
    rows: dict[str, dict] = {}
    if not path.is_file():
        return rows
    with open(path, "rb") as fh:
        data = fh.read()
    good_end = 0
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break  # torn by an interruption mid-write
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            break
        good_end += len(line)
        if isinstance(row, dict) and "id" in row:
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
