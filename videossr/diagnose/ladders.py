"""Difficulty ladders: for each task, recipe settings ordered from easiest to hardest.

Calibration walks a ladder instead of a free parameter space, so every probe is a setting the
task supports and "harder" has one meaning per task:

* jigsaw — the number of clips, n2 ... n12 (default: 6, the paper's training setting);
* counting — ``max_frames`` (frames per shape) and ``max_instances`` (instances per frame), raised
  one knob at a time from 1x1 to 5x6 (default: 3x3 = ``easy``; 4x4 = ``hard``);
* grounding — the perturbation pool (obvious, default, subtle) and the segment length range
  (``min_length``-``max_length`` kept frames; a shorter segment is harder to locate and a loose
  answer overlaps it less), default: the default pool at 8-16 (``mixed``).

Each rung is a recipe entry (task, variant, options) that ``videossr.recipe.parse_recipe`` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from videossr import perturbations
from videossr.names import unknown

# grounding perturbation pools, from most to least visible
OBVIOUS_POOL = ("grayscale", "invert", "rotate180", "noise")
SUBTLE_POOL = ("shuffle", "stutter_hold", "blur", "saturation", "mirror", "zoom_in")


@dataclass(frozen=True)
class Rung:
    """One setting of a task's knobs: a recipe entry (``variant`` + ``options``) and a short label."""

    label: str
    variant: str
    options: dict = field(default_factory=dict, hash=False)

    def entry(self, task: str, weight: float = 1) -> dict:
        """The recipe entry (YAML mapping) of this rung."""
        out = {"task": task, "variant": self.variant, "weight": weight}
        if self.options:
            out["options"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.options.items()}
        return out


@dataclass(frozen=True)
class Ladder:
    """A task's rungs, easiest first; ``default`` is the index of the task's default setting."""

    task: str
    knobs: str
    rungs: tuple[Rung, ...]
    default: int

    def __post_init__(self) -> None:
        if not 0 <= self.default < len(self.rungs):
            raise ValueError(f"{self.task} ladder: default {self.default} outside 0..{len(self.rungs) - 1}")

    def __len__(self) -> int:
        return len(self.rungs)

    def index(self, label: str) -> int:
        """The rung called ``label`` (as printed), or numbered ``label`` (``"3"``)."""
        labels = [r.label for r in self.rungs]
        if str(label).isdigit() and int(label) < len(labels):
            return int(label)
        if label not in labels:
            raise unknown(f"{self.task} rung", label, labels)
        return labels.index(label)


def _jigsaw() -> Ladder:
    rungs = tuple(Rung(f"n={n}", f"n{n}") for n in range(2, 13))
    return Ladder("jigsaw", "number of clips", rungs, default=4)


COUNTING_STEPS = ((1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4), (4, 4), (4, 5), (5, 5), (5, 6))


def _counting() -> Ladder:
    rungs = []
    for frames, instances in COUNTING_STEPS:
        variant = "easy" if (frames, instances) <= (3, 3) else "hard"
        preset = {"easy": (3, 3), "hard": (4, 4)}[variant]
        options = {} if (frames, instances) == preset else {"max_frames": frames, "max_instances": instances}
        rungs.append(Rung(f"frames<={frames} instances<={instances}", variant, options))
    return Ladder("counting", "max_frames x max_instances per shape", tuple(rungs), default=COUNTING_STEPS.index((3, 3)))


GROUNDING_STEPS = (  # (pool name, min_length, max_length)
    ("obvious", 16, 24), ("obvious", 12, 20), ("default", 12, 20), ("default", 8, 16),
    ("default", 6, 12), ("subtle", 6, 12), ("subtle", 4, 8), ("subtle", 2, 6),
)


def grounding_pool(name: str) -> tuple[str, ...]:
    pools = {"obvious": OBVIOUS_POOL, "default": tuple(perturbations.default_pool()), "subtle": SUBTLE_POOL}
    if name not in pools:
        raise unknown("grounding pool", name, pools)
    return pools[name]


def _grounding() -> Ladder:
    rungs = []
    for pool, lo, hi in GROUNDING_STEPS:
        options = {} if (pool, lo, hi) == ("default", 8, 16) else {"min_length": lo, "max_length": hi}
        if pool != "default":
            options["perturbations"] = grounding_pool(pool)
        rungs.append(Rung(f"{pool} pool, {lo}-{hi} frames", "mixed", options))
    return Ladder("grounding", "perturbation pool and segment length range", tuple(rungs), default=GROUNDING_STEPS.index(("default", 8, 16)))


LADDERS: dict[str, Ladder] = {ladder.task: ladder for ladder in (_jigsaw(), _counting(), _grounding())}


def get_ladder(task: str) -> Ladder:
    if task not in LADDERS:
        raise unknown("task to calibrate", task, LADDERS)
    return LADDERS[task]
