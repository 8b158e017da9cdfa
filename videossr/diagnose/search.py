"""The calibration search along a difficulty ladder, given a probe function.

``search(ladder_length, probe, target=..., tolerance=..., start=...)`` probes rungs (easiest = 0)
until one has a mean smooth reward within ``tolerance`` of ``target``. It assumes the reward
falls as the rung index rises: from ``start`` it steps towards the target, doubling the step
while the reward stays on the same side, then bisects between the last rung found too easy
and the first found too hard. When no rung is within tolerance (adjacent rungs straddle the
target, or the ladder ends), it picks the probed rung with the highest share of questions whose
rewards vary (GRPO signal), ties going to the rung closest to the target. No rung is probed twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Probe:
    """One probed rung: its index and label, what was asked, and what the model scored."""

    index: int
    label: str
    questions: int
    mean_smooth: float
    mean_strict: float
    zero_variance_smooth: float
    zero_variance_strict: float
    histogram: tuple[int, ...] = ()
    entry: dict = field(default_factory=dict)
    dataset: str = ""

    @property
    def signal_share(self) -> float:
        return 1.0 - self.zero_variance_smooth

    def to_dict(self) -> dict:
        out = asdict(self)
        out["histogram"] = list(self.histogram)
        out["signal_share"] = self.signal_share
        return out


@dataclass(frozen=True)
class SearchResult:
    chosen: Probe
    reason: str  # "within tolerance" or why the fallback was used
    probes: tuple[Probe, ...]  # in the order they were run
    target: float
    tolerance: float

    @property
    def reached(self) -> bool:
        return abs(self.chosen.mean_smooth - self.target) <= self.tolerance


def _fallback(probes: list[Probe], target: float) -> Probe:
    return max(probes, key=lambda p: (round(p.signal_share, 9), -abs(p.mean_smooth - target), -p.index))


def search(ladder_length: int, probe: Callable[[int], Probe], *, target: float = 0.5, tolerance: float = 0.05, start: int = 0,
           on_probe: Callable[[Probe], None] | None = None) -> SearchResult:
    """Probe rungs of a ladder (0 = easiest) until the mean smooth reward is within ``tolerance`` of ``target``."""
    if ladder_length < 1:
        raise ValueError("the ladder has no rung")
    if not 0 <= target <= 1 or not 0 <= tolerance < 1:
        raise ValueError(f"need a target in [0, 1] and a tolerance in [0, 1), got {target}, {tolerance}")
    if not 0 <= start < ladder_length:
        raise ValueError(f"start rung {start} outside 0..{ladder_length - 1}")
    done: dict[int, Probe] = {}
    order: list[Probe] = []
    easy, hard = -1, ladder_length  # last rung known too easy, first known too hard
    step, index = 1, start
    while True:
        result = probe(index)
        done[index] = result
        order.append(result)
        if on_probe is not None:
            on_probe(result)
        if abs(result.mean_smooth - target) <= tolerance:
            return SearchResult(result, "within tolerance", tuple(order), target, tolerance)
        if result.mean_smooth > target:
            easy = max(easy, index)
        else:
            hard = min(hard, index)
        if hard - easy <= 1:
            break
        if hard == ladder_length:  # everything probed is too easy: climb, doubling the step
            index = min(ladder_length - 1, easy + step)
        elif easy == -1:  # everything probed is too hard: descend
            index = max(0, hard - step)
        else:
            index = (easy + hard) // 2
        step *= 2
        if index in done:
            break
    if hard == ladder_length:
        reason = f"the hardest rung is still above the target (reward {done[ladder_length - 1].mean_smooth:.3f} > {target} + {tolerance})"
    elif easy == -1:
        reason = f"the easiest rung is still below the target (reward {done[0].mean_smooth:.3f} < {target} - {tolerance})"
    else:
        reason = f"no rung within tolerance: rung {easy} scores {done[easy].mean_smooth:.3f}, rung {hard} scores {done[hard].mean_smooth:.3f}"
    chosen = _fallback(order, target)
    return SearchResult(chosen, f"{reason}; chose the probed rung with the most groups with reward variance", tuple(order), target, tolerance)
