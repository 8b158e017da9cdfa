"""Answers from a predictions file: for tests, and to score runs made elsewhere.

The file is JSONL; each line gives the outputs of one item as ``outputs`` (a list) or
``response`` (one text) and names the item by ``id`` (or ``sample_id``). Lines written by
``videossr eval`` also carry ``target``, the fingerprint of the target they answer (kind +
content digest); given a ``target``, a file whose lines answer another one (another VIUBench
build or seed, another dataset, another kind) is refused with one line, as is a VIUBench line
whose ``bench`` fingerprint is another folder's. Lines without ``target`` (files from other
tools) are matched by id alone.

Every item gets its own line's answer: requests are matched by their item id (set by the eval
runner), never by content, so items with the same video and question keep their own replies.
A request without an id falls back to the line with its ``request_key``. A request with no line,
or with fewer outputs than ``n``, is an item error. Replay answers are never put in the
response cache (``cacheable = False``): they are not a model's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

from videossr.backends.base import Backend, Generation, Request, SamplingSettings
from videossr.errors import UserError


def _outputs(row: dict) -> list[str] | None:
    if isinstance(row.get("outputs"), list) and row["outputs"]:
        return [str(t) for t in row["outputs"]]
    if row.get("response") is not None:
        return [str(row["response"])]
    return None


def _foreign(row: dict, target) -> str | None:
    """Why ``row`` cannot answer ``target`` (None when it may)."""
    bound, bench, mine = row.get("target"), row.get("bench"), target.info.get("fingerprint")
    if target.kind == "viubench" and (bench or "") != (mine or "") and (bench is not None or str(bound).startswith("viubench:")):
        made_on = bench if bench is not None else str(bound).partition(":")[2]
        return f"was made on VIUBench build {made_on}, not this folder's {mine} (another seed or videos: the same ids ask other questions)"
    if bound is not None and bound != target.fingerprint:
        return f"answers target {bound}, not {target.fingerprint} ({target.path})"
    return None


class ReplayBackend(Backend):
    name = "replay"
    cacheable = False

    def __init__(self, path: str | os.PathLike, target=None):
        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"replay file not found: {self.path}")
        self._by_id: dict[str, list[str]] = {}
        self._by_key: dict[str, list[str]] = {}
        with open(self.path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    raise UserError(f"{self.path}:{number}: not a JSON line") from None
                if not isinstance(row, dict):
                    raise UserError(f"{self.path}:{number}: not a JSON object")
                if target is not None and (why := _foreign(row, target)):
                    raise UserError(f"{self.path}:{number} {why}; replay a predictions file of this target")
                outputs = _outputs(row)
                if outputs is None:
                    continue
                ident = row.get("id", row.get("sample_id"))
                if ident is not None:
                    self._by_id[str(ident)] = outputs
                if row.get("request_key"):
                    self._by_key.setdefault(row["request_key"], outputs)

    def identity(self) -> dict:
        return {"backend": self.name, "path": str(self.path.resolve())}

    def generate_iter(self, requests: list[Request], settings: SamplingSettings) -> Iterator[tuple[int, Generation]]:
        for index, request in enumerate(requests):
            outputs = self._by_id.get(request.id) if request.id is not None else self._by_key.get(request.key())
            if outputs is None:
                yield index, Generation(error=f"no answer for item {request.id} in {self.path.name}" if request.id is not None else f"no answer for this request in {self.path.name}")
            elif len(outputs) < settings.n:
                yield index, Generation(error=f"{self.path.name} holds {len(outputs)} outputs for this item, n={settings.n} asked")
            else:
                yield index, Generation(texts=tuple(outputs[: settings.n]))
