"""Shared answer extraction for the task scorers: locate the answer, then read its numbers.

Every function here runs in time linear in its input and never raises on any string. The
whole response is only ever searched with ``str.find``/``str.rfind`` (C speed); everything
slower (the number tokenizer) runs on the answer region alone, which is capped at
``MAX_ANSWER_CHARS``. The number pattern has no nested or overlapping quantifiers, so it cannot
backtrack.

Locating the answer (see docs/rewards.md for the full grammar):

1. Everything up to the last ``</think>`` is reasoning and is dropped.
2. ``<answer>...</answer>`` blocks, if any, are the answer. Several blocks must agree
   (identical after stripping whitespace); a final unclosed ``<answer>`` runs to the end of the
   text (a stop string that ate ``</answer>``); a lone ``</answer>`` ends an answer whose
   opening tag was in the prompt.
3. Otherwise ``\\boxed{...}`` blocks, with the same agreement rule.
4. Otherwise an unclosed ``<think>`` swallows the rest of the text, and what precedes it is
   the answer.
5. Otherwise the whole visible text is the answer.

Tags are matched in lower case only; ``<Answer>`` and the like are read as ordinary prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import NamedTuple

THINK_CLOSE = "</think>"
THINK_OPEN = "<think>"
ANSWER_OPEN = "<answer>"
ANSWER_CLOSE = "</answer>"
BOXED_OPEN = "\\boxed{"

MAX_ANSWER_CHARS = 4096  # a longer answer region is a format failure
MAX_ANSWER_BLOCKS = 8  # more <answer> (or \boxed) blocks than this is a format failure
MAX_NUMBERS = 64  # more numbers than this in the answer region is a format failure
MAX_INT_DIGITS = 9  # a number with more integer digits than this is a format failure

# ``\d`` is Unicode-aware, so full-width (and other Nd) digits match and ``int`` reads them.
_NUMBER_RE = re.compile(r"(\d+)(?:[.\uff0e](\d+))?")
_MINUS_CHARS = frozenset("-\u2212\uff0d\u2010\u2011\u2013\u2014")
_SPACES = frozenset(" \t\u3000")
_NO_SIGN_BEFORE = frozenset(".)]}\uff0e")


@dataclass(frozen=True)
class RewardResult:
    """The outcome of scoring one response against one ground truth.

    ``score`` is the smooth reward, ``strict`` the exact-match reward (0.0 or 1.0), and
    ``reward`` the one selected by ``mode``. ``details`` holds task metrics as (name, value)
    pairs with values in [0, 1]; every result of a task has the same names, and every task has
    ``"viubench"`` (the VIUBench per-item metric). ``reason`` says why a format check failed.
    """

    task: str
    score: float
    strict: float
    format_ok: bool
    reason: str = ""
    details: tuple[tuple[str, float], ...] = field(default=())
    mode: str = "smooth"

    @property
    def reward(self) -> float:
        return self.strict if self.mode == "strict" else self.score

    def detail(self, name: str) -> float:
        for key, value in self.details:
            if key == name:
                return value
        raise KeyError(f"{self.task} result has no detail {name!r} (has: {[k for k, _ in self.details]})")

    def with_mode(self, mode: str) -> "RewardResult":
        return self if mode == self.mode else replace(self, mode=mode)


def failure(task: str, reason: str, detail_names: tuple[str, ...]) -> RewardResult:
    """A zero reward for a response whose answer could not be read unambiguously."""
    return RewardResult(task, 0.0, 0.0, False, reason, tuple((name, 0.0) for name in detail_names))


class Number(NamedTuple):
    """A non-negative decimal number as written in the answer (digits may be non-ASCII).

    ``start``/``end`` are its half-open character span in the answer region; ``negative`` is
    set when a minus sign is attached to it (see ``_has_minus_sign``).
    """

    int_digits: str
    frac_digits: str
    negative: bool
    start: int
    end: int

    @property
    def is_integer(self) -> bool:
        return not self.frac_digits

    def as_int(self) -> int:
        return int(self.int_digits)

    def as_tenths(self) -> int:
        """The value in tenths, rounded half up on its first two decimals (exact, no floats)."""
        frac = self.frac_digits
        tenths = int(self.int_digits) * 10 + (int(frac[0]) if frac else 0)
        return tenths + (1 if len(frac) > 1 and int(frac[1]) >= 5 else 0)


def locate_answer(text: str) -> tuple[str | None, str]:
    """The answer region of a response, or ``(None, reason)`` when there is none."""
    close_at = text.rfind(THINK_CLOSE)
    visible = text[close_at + len(THINK_CLOSE):] if close_at >= 0 else text
    answer, reason = _tagged_answer(visible)
    if answer is None and not reason:
        think_at = visible.find(THINK_OPEN) if _contains(visible, THINK_OPEN) else -1
        answer = visible[:think_at] if think_at >= 0 else visible
        if think_at >= 0 and not answer.strip():
            return None, "unclosed <think> and no answer"
    if answer is None:
        return None, reason
    answer = answer.strip()
    if not answer:
        return None, "empty answer"
    if len(answer) > MAX_ANSWER_CHARS:
        return None, f"answer longer than {MAX_ANSWER_CHARS} characters"
    return answer, ""


def _tagged_answer(visible: str) -> tuple[str | None, str]:
    """The agreed content of <answer> (else \\boxed) blocks; (None, "") when there are none."""
    if _contains(visible, ANSWER_OPEN):
        return _agreed(_blocks(visible, ANSWER_OPEN, ANSWER_CLOSE, open_ended=True), "<answer>")
    if _contains(visible, ANSWER_CLOSE):
        return visible[:visible.find(ANSWER_CLOSE)], ""
    if _contains(visible, BOXED_OPEN):
        return _agreed(_blocks(visible, BOXED_OPEN, "}", open_ended=False), "\\boxed")
    return None, ""


def _contains(text: str, needle: str) -> bool:
    """``needle in text``, via the reverse search, which CPython runs several times faster."""
    return text.rfind(needle) >= 0


def _blocks(text: str, opener: str, closer: str, *, open_ended: bool) -> list[str]:
    """Contents of up to MAX_ANSWER_BLOCKS + 1 blocks (enough to detect too many)."""
    contents: list[str] = []
    pos = text.find(opener)
    while pos >= 0 and len(contents) <= MAX_ANSWER_BLOCKS:
        body_at = pos + len(opener)
        end = text.find(closer, body_at)
        if end < 0:
            if open_ended:
                contents.append(text[body_at:])
            break
        contents.append(text[body_at:end])
        pos = text.find(opener, end + len(closer))
    return contents


def _agreed(contents: list[str], what: str) -> tuple[str | None, str]:
    if not contents:
        return None, f"unclosed {what}"
    if len(contents) > MAX_ANSWER_BLOCKS:
        return None, f"more than {MAX_ANSWER_BLOCKS} {what} blocks"
    first = contents[0].strip()
    if any(other.strip() != first for other in contents[1:]):
        return None, f"conflicting {what} blocks"
    return first, ""


def find_numbers(answer: str) -> tuple[list[Number] | None, str]:
    """The numbers of an answer region, left to right, or ``(None, reason)``.

    Too many numbers (more than MAX_NUMBERS) or one with more than MAX_INT_DIGITS integer
    digits is a format failure. Everything between numbers is a separator.
    """
    numbers: list[Number] = []
    for match in _NUMBER_RE.finditer(answer):
        if len(numbers) == MAX_NUMBERS:
            return None, f"more than {MAX_NUMBERS} numbers"
        int_digits, frac_digits = match.groups("")
        if len(int_digits) > MAX_INT_DIGITS:
            return None, f"a number with more than {MAX_INT_DIGITS} digits"
        start, end = match.span()
        numbers.append(Number(int_digits, frac_digits, _has_minus_sign(answer, start), start, end))
    return numbers, ""


def _has_minus_sign(text: str, digits_at: int) -> bool:
    """True when a dash right before the digits is a sign, not a range separator.

    The dash is a separator when the nearest non-space character before it (looking past up to
    three spaces) ends a number or a word: "12.5-20", "12.5 -20", "12.5s -20s", "3-1-4". It is
    a sign at the start of the answer or after punctuation: "-3", "3, -1", "circles: -2".
    """
    if digits_at == 0 or text[digits_at - 1] not in _MINUS_CHARS:
        return False
    k = digits_at - 2
    while k >= 0 and text[k] in _SPACES and digits_at - 2 - k < 3:
        k -= 1
    if k < 0:
        return True
    before = text[k]
    return not (before.isalnum() or before in _NO_SIGN_BEFORE)


def unique_group(values: list, arity: int) -> tuple[tuple | None, str]:
    """The single group when ``values`` is one group of ``arity`` repeated verbatim, else None.

    Restating the same answer is harmless; two different answers are ambiguous and score 0.
    """
    if not values or len(values) % arity:
        return None, f"expected {arity} numbers, found {len(values)}"
    first = tuple(values[:arity])
    for at in range(arity, len(values), arity):
        if tuple(values[at:at + arity]) != first:
            return None, f"conflicting answers ({len(values) // arity} groups of {arity} numbers)"
    return first, ""
