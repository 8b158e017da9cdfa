"""Names: helpful errors for names looked up in a registry (tasks, variants, perturbations, recipes),
and the safe, bounded names ids get on disk (video ids, sample ids in file names)."""

from __future__ import annotations

import difflib
import hashlib
import re
from typing import Iterable


QUOTE_CHARS = 80
"""Longest quote of a value read from a file in an error message (a hostile file can hold a 1 GB string)."""


def short_repr(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters, ending in ``...`` when cut."""
    if isinstance(value, str):
        value = value[: limit + 1]
    elif isinstance(value, (list, tuple, dict)) and len(value) > limit:
        value = type(value)(list(value)[:limit]) if not isinstance(value, dict) else dict(list(value.items())[:limit])
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """``"; did you mean 'x'? (known: a, b, c)"`` to append to an unknown-name message."""
    known = list(known)
    close = difflib.get_close_matches(str(name)[:QUOTE_CHARS], known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} (known: {', '.join(known)})"


def unknown(kind: str, name: object, known: Iterable[str]) -> KeyError:
    """A KeyError saying ``unknown <kind> '<name>'`` with the closest known name."""
    return KeyError(f"unknown {kind} {short_repr(str(name))}{did_you_mean(name, known)}")


# ----------------------------------------------------------------------------- names on disk

NAME_MAX_BYTES = 255
"""The longest file name (one path component) Linux file systems take, in bytes."""
MAX_ID_BYTES = 160
"""The longest id used as (part of) a file name: the rest of ``NAME_MAX_BYTES`` is room for what is
added around an id on disk (``.json``, ``.jsonl``, ``.jpg``, the temp prefix ``.tmp-`` with a
process id and random letters, a variant key)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def short_hash(text: str) -> str:
    """8 hex digits naming ``text`` (stable across runs and machines)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=4).hexdigest()


def sanitize(part: str) -> str:
    """``part`` with every run of characters outside ``A-Za-z0-9._-`` replaced by ``_`` and leading or
    trailing dots and underscores removed (never empty, never ``.`` or ``..``)."""
    return _UNSAFE.sub("_", part).strip("._") or "_"


def bounded(name: str, key: str, limit: int = MAX_ID_BYTES) -> str:
    """``name`` if it fits in ``limit`` bytes, else its first characters and ``_<short_hash(key)>``:
    ``key`` (what the name stands for, e.g. the full relative path) keeps shortened names distinct."""
    if len(name.encode("utf-8")) <= limit:
        return name
    suffix = f"_{short_hash(key)}"
    head = name.encode("utf-8")[: limit - len(suffix)].decode("utf-8", "ignore")
    return head + suffix


def file_stem(identifier: object) -> str:
    """A safe, bounded file-name stem for an id read from a file (a ``sample_id`` in a parquet):
    the id itself when it already is one, otherwise its sanitised form plus a hash of the id, so
    distinct ids never share a file and nothing like ``../x`` or ``a/b`` reaches the file system."""
    text = str(identifier)
    clean = sanitize(text)
    return bounded(clean if clean == text else f"{clean}_{short_hash(text)}", text)
