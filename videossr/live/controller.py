"""The live difficulty controller: one position per task on that task's ladder, moved by GRPO evidence.

A *report* is one finished GRPO group: the task, the ladder rung its prompt was generated at, and
the group's smooth rewards (one per rollout). The controller keeps, per task, the reports made at
the task's *current* rung since its last decision (reports of other rungs are stale: samples made
before a move, still in flight in the dataloader; they are counted, never used). Once a task has
``min_groups`` fresh reports it decides, one rung at a time:

* mean smooth reward above ``band[1]`` -> one rung harder (the task is too easy);
* mean smooth reward below ``band[0]`` -> one rung easier (too hard);
* inside the band, but the share of groups *without* reward variance above ``max_zero_variance``
  -> towards the side those groups are on (all rewards >= ``saturated`` -> harder, else easier);
* otherwise it holds.

Every decision (holds too) is recorded as a :class:`Decision` with its evidence, and the
evidence window is cleared, so each decision rests on ``min_groups`` new groups. The state is a
small JSON (``state()`` / ``from_state()``) that checkpoints with the run; the same reports in the
same order give the same decisions. Pure Python: no torch, no Ray, no file access.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from videossr.errors import UserError

STATE_FORMAT = "videossr-live-controller-1"
STD_EPS = 1e-9  # smooth rewards closer than this count as equal (as videossr.diagnose.stats)


@dataclass(frozen=True)
class ControllerConfig:
    """The controller's knobs; see the module docstring and the README's "Live difficulty" section.

    ``band``: the target range of a task's mean smooth reward (0.5 is where a Bernoulli reward has
    the most variance; the band leaves room for noise). ``max_zero_variance``: the largest share of
    groups with all-equal rewards tolerated inside the band. ``min_groups``: fresh groups needed
    before any decision (with 8 rollouts, 16 groups = 128 answers: a mean's standard error is then
    about 0.03-0.05). ``saturated``: a zero-variance group whose rewards are all at least this is
    "all solved" (move harder); below it, "all failed" (move easier).
    """

    band: tuple[float, float] = (0.35, 0.75)
    max_zero_variance: float = 0.5
    min_groups: int = 16
    saturated: float = 0.5

    def __post_init__(self) -> None:
        low, high = (float(x) for x in self.band)
        if not (0.0 <= low < high <= 1.0):
            raise UserError(f"live band must be two numbers 0 <= low < high <= 1, got {self.band!r}")
        object.__setattr__(self, "band", (low, high))
        if not 0.0 <= self.max_zero_variance <= 1.0 or not math.isfinite(self.max_zero_variance):
            raise UserError(f"live max_zero_variance must be in [0, 1], got {self.max_zero_variance!r}")
        if not isinstance(self.min_groups, int) or self.min_groups < 1:
            raise UserError(f"live min_groups must be an integer >= 1, got {self.min_groups!r}")
        if not 0.0 <= self.saturated <= 1.0:
            raise UserError(f"live saturated must be in [0, 1], got {self.saturated!r}")


@dataclass(frozen=True)
class Evidence:
    """What one decision saw: fresh groups, their mean smooth reward, zero-variance share and side."""

    groups: int
    mean_reward: float
    zero_variance_share: float
    zero_variance_solved: int  # zero-variance groups with every reward >= saturated
    zero_variance_failed: int


@dataclass(frozen=True)
class Decision:
    """One decision for one task: at controller step ``step``, rung ``from_rung`` -> ``to_rung``."""

    step: int
    task: str
    from_rung: int
    to_rung: int
    reason: str
    evidence: Evidence

    @property
    def moved(self) -> bool:
        return self.from_rung != self.to_rung

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _TaskState:
    rung: int
    rungs: int  # ladder length
    window: list[tuple[float, float, float]] = field(default_factory=list)  # per fresh group: (mean, std, min)
    stale: int = 0


def _group_summary(rewards) -> tuple[float, float, float]:
    values = [float(r) for r in rewards]
    if not values or not all(math.isfinite(v) for v in values):
        raise ValueError(f"a group report needs finite rewards, got {rewards!r}")
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return mean, std, min(values)


class Controller:
    """Per-task rungs steered by group reports; see the module docstring."""

    def __init__(self, ladders: dict[str, int], start: dict[str, int], config: ControllerConfig | None = None):
        """``ladders``: task -> number of rungs; ``start``: task -> starting rung (usually the ladder's default)."""
        self.config = config or ControllerConfig()
        if set(ladders) != set(start):
            raise ValueError(f"ladders and start rungs name different tasks: {sorted(ladders)} vs {sorted(start)}")
        self._tasks = {}
        for task in sorted(ladders):
            if not 0 <= start[task] < ladders[task]:
                raise ValueError(f"{task}: start rung {start[task]} outside 0..{ladders[task] - 1}")
            self._tasks[task] = _TaskState(rung=int(start[task]), rungs=int(ladders[task]))
        self.step = 0
        self.decisions: list[Decision] = []

    @classmethod
    def for_tasks(cls, tasks, config: ControllerConfig | None = None, start: dict[str, int] | None = None) -> "Controller":
        """A controller over the calibration ladders (``videossr.diagnose.ladders``) of ``tasks``, at their defaults."""
        from videossr.diagnose.ladders import get_ladder

        ladders = {t: get_ladder(t) for t in tasks}
        begin = {t: ladder.default for t, ladder in ladders.items()} | dict(start or {})
        return cls({t: len(ladder) for t, ladder in ladders.items()}, begin, config)

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self._tasks)

    def rung(self, task: str) -> int:
        return self._tasks[task].rung

    def rungs(self) -> dict[str, int]:
        return {t: s.rung for t, s in self._tasks.items()}

    def advance(self, step: int | None = None) -> None:
        """Set the step number recorded in later decisions (a training step); default: one more."""
        self.step = self.step + 1 if step is None else int(step)

    def report(self, task: str, rung: int, rewards) -> Decision | None:
        """One finished group; returns the decision it triggered, if any."""
        state = self._tasks.get(task)
        if state is None:
            raise ValueError(f"report for task {task!r}, which the controller does not steer ({', '.join(self._tasks)})")
        summary = _group_summary(rewards)
        if int(rung) != state.rung:
            state.stale += 1
            return None
        state.window.append(summary)
        if len(state.window) < self.config.min_groups:
            return None
        return self._decide(task, state)

    def _decide(self, task: str, state: _TaskState) -> Decision:
        cfg, window = self.config, state.window
        mean = sum(m for m, _, _ in window) / len(window)
        flat = [(m, lo) for m, s, lo in window if s <= STD_EPS]
        solved = sum(1 for _, lo in flat if lo >= cfg.saturated)
        evidence = Evidence(len(window), round(mean, 6), round(len(flat) / len(window), 6), solved, len(flat) - solved)
        if mean > cfg.band[1]:
            step, reason = 1, f"mean reward {mean:.3f} above the band"
        elif mean < cfg.band[0]:
            step, reason = -1, f"mean reward {mean:.3f} below the band"
        elif evidence.zero_variance_share > cfg.max_zero_variance:
            step = 1 if solved >= len(flat) - solved else -1
            reason = f"{evidence.zero_variance_share:.0%} of groups without reward variance ({'solved' if step > 0 else 'failed'})"
        else:
            step, reason = 0, "inside the band"
        target = min(max(state.rung + step, 0), state.rungs - 1)
        if step and target == state.rung:
            reason += " (at the end of the ladder)"
        decision = Decision(self.step, task, state.rung, target, reason, evidence)
        state.rung, state.window = target, []
        self.decisions.append(decision)
        return decision

    def state(self) -> dict:
        """A JSON-ready snapshot: config, rung, window and stale count per task, step, decisions."""
        return {
            "format": STATE_FORMAT,
            "config": asdict(self.config),
            "step": self.step,
            "tasks": {t: {"rung": s.rung, "rungs": s.rungs, "window": [list(w) for w in s.window], "stale": s.stale} for t, s in self._tasks.items()},
            "decisions": [d.as_dict() for d in self.decisions],
        }

    @classmethod
    def from_state(cls, state: dict) -> "Controller":
        """The controller ``state()`` described (resume); refuses another format."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise UserError(f"not a live controller state (format {state.get('format') if isinstance(state, dict) else None!r}, expected {STATE_FORMAT})")
        config = ControllerConfig(**{**state["config"], "band": tuple(state["config"]["band"])})
        tasks = state["tasks"]
        out = cls({t: v["rungs"] for t, v in tasks.items()}, {t: v["rung"] for t, v in tasks.items()}, config)
        out.step = int(state["step"])
        for t, v in tasks.items():
            out._tasks[t].window = [tuple(float(x) for x in w) for w in v["window"]]
            out._tasks[t].stale = int(v["stale"])
        out.decisions = [Decision(**{**d, "evidence": Evidence(**d["evidence"])}) for d in state["decisions"]]
        return out
