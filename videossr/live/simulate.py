"""A simulated GRPO learner, to compare fixed and live difficulty over training time (``benchmarks/bench_live.py``).

The learner answers like the synthetic backend (``videossr.backends.synthetic``): a question of
difficulty ``d`` (the backend's ``difficulty`` formula) with a per-question offset
``e ~ N(0, spread)`` is answered exactly with probability ``1 / (1 + exp(-(skill - d + e)))``,
otherwise with the backend's near miss; our real reward functions score every answer. The
question's params are drawn from the rung's recipe options as the task generators draw them
(jigsaw: a shuffled order of n clips; counting: 1..max_frames frames per shape, 1..max_instances
instances each; grounding: a segment of min_length..max_length of 48 frames of a 10 s video, a
perturbation from the rung's pool), without rendering pixels.

Learning: after each step, a task's skill grows by ``learning_rate`` for every group of that task
whose rewards were not all equal (a group with zero reward variance has zero advantage and gives
no gradient; the paper's Figure 1 argument). Each step is a batch of ``prompts`` questions, split
over the tasks by the recipe weights, ``rollouts`` answers each.

Arms: ``static`` — every task at its ladder's default rung (the VideoSSR-30K settings);
``calibrated`` — each task at the rung whose expected mean smooth reward at the starting skill is
closest to 0.5 (what ``videossr calibrate`` does offline before training); ``live`` — a
:class:`~videossr.live.controller.Controller` starting at the defaults, fed every group.
Every draw comes from a generator seeded by (seed, arm, step): same settings, same curves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from videossr import rewards
from videossr.backends.synthetic import difficulty, exact_probability, near_miss
from videossr.diagnose.ladders import Rung, get_ladder
from videossr.live.controller import STD_EPS, Controller, ControllerConfig
from videossr.seeding import rng_for
from videossr.tasks import get_task
from videossr.tasks.jigsaw import format_order

KEPT_FRAMES, DURATION_S = 48, 10.0
# VideoSSR-30K: 4 grounding perturbations x 3K, jigsaw (6 clips) 12K, counting easy 6K
PAPER_WEIGHTS = {"grounding": 0.4, "jigsaw": 0.4, "counting": 0.2}
# starting skills near Qwen3-VL-8B's VIUBench profile: grounding partly solved, counting rarely, jigsaw almost never
DEFAULT_SKILL = {"grounding": 3.0, "counting": 2.0, "jigsaw": 0.5}
ARMS = ("static", "calibrated", "live")


@dataclass(frozen=True)
class SimConfig:
    steps: int = 200
    prompts: int = 64  # per step (the paper's global batch)
    rollouts: int = 8
    learning_rate: float = 0.003  # skill gained per group with reward variance
    spread: float = 1.0
    seed: int = 0
    weights: dict = field(default_factory=lambda: dict(PAPER_WEIGHTS))
    start_skill: dict = field(default_factory=lambda: dict(DEFAULT_SKILL))
    probe_questions: int = 256  # per rung, for the calibrated arm


def draw_question(task: str, rung: Rung, rng: np.random.Generator) -> tuple[float, str, float]:
    """(difficulty, exact answer, sample fps) of one question at ``rung``, drawn as the task generator draws params."""
    opts = get_task(task).options(rung.variant, **rung.options)
    fps = KEPT_FRAMES / DURATION_S
    if task == "jigsaw":
        order = [int(x) + 1 for x in rng.permutation(opts.n)]
        return difficulty(task, {"n": opts.n}), format_order(order), fps
    if task == "counting":
        placements, counts = [], []
        for _shape in range(3):
            per_frame = rng.integers(1, opts.max_instances + 1, size=int(rng.integers(1, opts.max_frames + 1)))
            placements += [{"instances": [0] * int(k)} for k in per_frame]
            counts.append(int(per_frame.sum()))
        return difficulty(task, {"placements": placements}), ",".join(map(str, counts)), fps
    length = int(rng.integers(opts.min_length, opts.max_length + 1))
    start = int(rng.integers(0, KEPT_FRAMES - length + 1))
    name = str(opts.perturbations[int(rng.integers(len(opts.perturbations)))])
    answer = f"{start / fps:.1f}-{(start + length) / fps:.1f}"
    return difficulty(task, {"perturbation": name, "length_frames": length}), answer, fps


def answer_group(task: str, rung: Rung, skill: float, cfg: SimConfig, rng: np.random.Generator) -> tuple[list[float], list[float]]:
    """One question answered ``cfg.rollouts`` times: (smooth rewards, strict rewards)."""
    d, answer, fps = draw_question(task, rung, rng)
    p = exact_probability(skill, d, float(rng.normal(0.0, cfg.spread)) if cfg.spread else 0.0)
    source = rewards.data_source_for(task)
    smooth, strict = [], []
    for _ in range(cfg.rollouts):
        text = answer if rng.random() < p else near_miss(task, answer, d, fps, rng)
        result = rewards.compute(source, text, answer)
        smooth.append(result.score)
        strict.append(result.strict)
    return smooth, strict


def _task_counts(cfg: SimConfig) -> dict[str, int]:
    """Prompts per task in one step: the recipe weights, largest remainders, summing to ``cfg.prompts``."""
    total = sum(cfg.weights.values())
    exact = {t: cfg.prompts * w / total for t, w in sorted(cfg.weights.items())}
    counts = {t: int(v) for t, v in exact.items()}
    for t in sorted(exact, key=lambda t: (counts[t] - exact[t], t))[: cfg.prompts - sum(counts.values())]:
        counts[t] += 1
    return counts


def calibrated_rungs(cfg: SimConfig) -> dict[str, int]:
    """Per task, the rung whose mean smooth reward at the starting skill is closest to 0.5."""
    chosen = {}
    for task in sorted(cfg.weights):
        ladder, best = get_ladder(task), None
        for index, rung in enumerate(ladder.rungs):
            rng = rng_for(cfg.seed, "bench-live-probe", task, index)
            means = [np.mean(answer_group(task, rung, cfg.start_skill[task], cfg, rng)[0]) for _ in range(cfg.probe_questions // cfg.rollouts)]
            gap = abs(float(np.mean(means)) - 0.5)
            if best is None or gap < best[0]:
                best = (gap, index)
        chosen[task] = best[1]
    return chosen


@dataclass
class ArmResult:
    zero_variance_share: float  # mean over steps, smooth reward
    zero_variance_share_strict: float
    final_skill: float  # mean over tasks
    final_skill_per_task: dict
    series: dict  # per step: zero_variance_share, zero_variance_share_strict, skill, mean_reward, rungs
    decisions: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def run_arm(arm: str, cfg: SimConfig, controller_config: ControllerConfig | None = None) -> ArmResult:
    """Train the simulated learner for ``cfg.steps`` steps under one arm."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r} (one of {', '.join(ARMS)})")
    tasks = sorted(cfg.weights)
    ladders = {t: get_ladder(t) for t in tasks}
    controller = Controller.for_tasks(tasks, controller_config) if arm == "live" else None
    fixed = calibrated_rungs(cfg) if arm == "calibrated" else {t: ladders[t].default for t in tasks}
    skill, counts = dict(cfg.start_skill), _task_counts(cfg)
    series = {"zero_variance_share": [], "zero_variance_share_strict": [], "skill": [], "mean_reward": [], "rungs": []}
    for step in range(cfg.steps):
        rng = rng_for(cfg.seed, "bench-live", arm, step)
        rungs = controller.rungs() if controller else dict(fixed)
        flat = flat_strict = groups = 0
        gained, rewards_sum = {t: 0 for t in tasks}, 0.0
        for task in tasks:
            for _ in range(counts[task]):
                smooth, strict = answer_group(task, ladders[task].rungs[rungs[task]], skill[task], cfg, rng)
                informative = float(np.std(smooth)) > STD_EPS
                flat += not informative
                flat_strict += len(set(strict)) == 1
                gained[task] += informative
                groups += 1
                rewards_sum += float(np.mean(smooth))
                if controller:
                    controller.report(task, rungs[task], smooth)
        for task in tasks:
            skill[task] += cfg.learning_rate * gained[task]
        if controller:
            controller.advance()
        series["zero_variance_share"].append(flat / groups)
        series["zero_variance_share_strict"].append(flat_strict / groups)
        series["skill"].append(float(np.mean([skill[t] for t in tasks])))
        series["mean_reward"].append(rewards_sum / groups)
        series["rungs"].append(rungs)
    return ArmResult(
        zero_variance_share=float(np.mean(series["zero_variance_share"])),
        zero_variance_share_strict=float(np.mean(series["zero_variance_share_strict"])),
        final_skill=float(np.mean([skill[t] for t in tasks])), final_skill_per_task=dict(skill), series=series,
        decisions=[d.as_dict() for d in controller.decisions if d.moved] if controller else [],
    )
