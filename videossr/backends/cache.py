"""A response cache around any backend, keyed by (backend identity, request, sampling settings).

Answers live in one SQLite file (stdlib, safe under ``kill -9``: a row is either committed or
absent). Only successful generations are stored; errors are asked again next time. A rerun, a
second task over the same requests, or a diagnose run that shares the file never asks the model
twice for the same thing. The key (:func:`~videossr.backends.base.cache_key`) holds the model's
identity by content (a retrained checkpoint in the same folder misses), every sampling setting,
and for sampled answers the item id (identical requests share only greedy answers). It never
includes secrets (backends leave them out of ``identity()``). A file that is not a readable
cache (torn, overwritten, not SQLite) is moved aside to ``<name>.corrupt`` with a warning and a
fresh one started: only answers are lost, which are asked again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Iterator

from videossr.backends.base import Backend, Generation, Request, SamplingSettings, cache_key

_SCHEMA = "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, texts TEXT NOT NULL, latency_s REAL NOT NULL)"


class ResponseCache:
    """``get(key) -> Generation | None`` and ``put(key, generation)`` over one SQLite file."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            aside = self.path.with_name(self.path.name + ".corrupt")
            print(f"warning: response cache {self.path} is unreadable ({exc}); moved it to {aside.name} and started a fresh one", file=sys.stderr)
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            db.commit()
            status = db.execute("PRAGMA quick_check").fetchone()
            columns = [row[1] for row in db.execute("PRAGMA table_info(responses)")]
            if status is None or status[0] != "ok" or columns != ["key", "texts", "latency_s"]:
                raise sqlite3.DatabaseError(f"integrity check: {status[0] if status else 'no answer'}, columns {columns}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def get(self, key: str) -> Generation | None:
        row = self._db.execute("SELECT texts, latency_s FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            texts = json.loads(row[0])
        except ValueError:
            return None  # a damaged row: asked again, and replaced when answered
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return None
        return Generation(texts=tuple(texts), latency_s=float(row[1] or 0.0), cached=True)

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

    def prompt(self, request: Request) -> str:
        return self.inner.prompt(request)

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
