"""Helpful errors for names looked up in a registry (tasks, variants, perturbations, recipes)."""

from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """``"; did you mean 'x'? (known: a, b, c)"`` to append to an unknown-name message."""
    known = list(known)
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} (known: {', '.join(known)})"


def unknown(kind: str, name: object, known: Iterable[str]) -> KeyError:
    """A KeyError saying ``unknown <kind> '<name>'`` with the closest known name."""
    return KeyError(f"unknown {kind} {str(name)!r}{did_you_mean(name, known)}")
