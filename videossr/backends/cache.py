"""A response cache around any backend, keyed by (backend identity, request, sampling settings).

Answers live in one SQLite file (stdlib, safe under ``kill -9``: a row is either committed or
absent). Only successful generations are stored; errors are asked again next time. A rerun, a
second task over the same requests, or a diagnose run that shares the file never asks the model
twice for the same thing. The key never includes secrets (backends leave them out of
``identity()``).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Iterator

from videossr.backends.base import Backend, Generation, Request, SamplingSettings, cache_key

_SCHEMA = "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, texts TEXT NOT NULL, latency_s REAL NOT NULL)"


class ResponseCache:
    """``get(key) -> Generation | None`` and ``put(key, generation)`` over one SQLite file."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db.commit()

    def get(self, key: str) -> Generation | None:
        row = self._db.execute("SELECT texts, latency_s FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return Generation(texts=tuple(json.loads(row[0])), latency_s=row[1], cached=True)

    def put(self, key: str, generation: Generation) -> None:
        if not generation.ok:
            return
        self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?)", (key, json.dumps(list(generation.texts), ensure_ascii=False), generation.latency_s))
        self._db.commit()

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        self._db.close()


class CachedBackend(Backend):
    """Answers from ``cache`` where it can, asks ``inner`` for the rest and stores what succeeds."""

    def __init__(self, inner: Backend, cache: ResponseCache | str | os.PathLike):
        self.inner = inner
        self.cache = cache if isinstance(cache, ResponseCache) else ResponseCache(cache)
        self.name = inner.name
        self.asked = 0  # requests passed on to the inner backend (for reports and tests)

    def identity(self) -> dict:
        return self.inner.identity()

    def render(self, request: Request) -> str:
        return self.inner.render(request)

    def generate_iter(self, requests: list[Request], settings: SamplingSettings) -> Iterator[tuple[int, Generation]]:
        identity = self.inner.identity()
        keys = [cache_key(identity, request, settings) for request in requests]
        missing: list[int] = []
        for index, key in enumerate(keys):
            hit = self.cache.get(key)
            if hit is not None and len(hit.texts) == settings.n:
                yield index, hit
            else:
                missing.append(index)
        if not missing:
            return
        self.asked += len(missing)
        for sub_index, generation in self.inner.generate_iter([requests[i] for i in missing], settings):
            index = missing[sub_index]
            self.cache.put(keys[index], generation)
            yield index, generation

    def close(self) -> None:
        self.cache.close()
        self.inner.close()
