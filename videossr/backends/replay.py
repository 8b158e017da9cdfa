"""Answers from a predictions file: for tests, and to score runs made elsewhere.

The file is JSONL; each line gives the outputs of one request as ``outputs`` (a list) or
``response`` (one text), and says which request by ``request_key`` (what ``videossr eval``
writes) or by item ``id`` / ``sample_id`` (then pass the target, whose items map ids to
requests). A request with no line, or with fewer outputs than ``n``, is an item error.
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


class ReplayBackend(Backend):
    name = "replay"

    def __init__(self, path: str | os.PathLike, target=None):
        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"replay file not found: {self.path}")
        by_key: dict[str, list[str]] = {}
        by_id: dict[str, list[str]] = {}
        with open(self.path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    raise UserError(f"{self.path}:{number}: not a JSON line") from None
                outputs = _outputs(row)
                if outputs is None:
                    continue
                if row.get("request_key"):
                    by_key[row["request_key"]] = outputs
                ident = row.get("id", row.get("sample_id"))
                if ident is not None:
                    by_id[str(ident)] = outputs
        if target is not None:
            for item in target.items:
                if item.request is not None and item.id in by_id:
                    by_key.setdefault(item.request.key(), by_id[item.id])
        self._answers = by_key

    def identity(self) -> dict:
        return {"backend": self.name, "path": str(self.path.resolve())}

    def generate_iter(self, requests: list[Request], settings: SamplingSettings) -> Iterator[tuple[int, Generation]]:
        for index, request in enumerate(requests):
            outputs = self._answers.get(request.key())
            if outputs is None:
                yield index, Generation(error=f"no answer for this request in {self.path.name}")
            elif len(outputs) < settings.n:
                yield index, Generation(error=f"{self.path.name} holds {len(outputs)} outputs for this request, n={settings.n} asked")
            else:
                yield index, Generation(texts=tuple(outputs[: settings.n]))
