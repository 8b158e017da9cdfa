"""The benchmark's identity: its version string and its 9 subsets in the paper's order.

A subset is one task variant of the VIUBench recipe (``videossr/recipes/viubench.yaml``); its
name is the recipe entry's ``task-variant`` key with ``_`` for ``-`` (``counting-easy`` ->
``counting_easy``), exactly the column names of the published table. Task averages group the
subsets by task; ability averages by what they probe (PAPER.md): fine-grained = counting,
spatial = the four pixel-space groundings, temporal = shuffle grounding and the jigsaws.
Overall is the unweighted mean of the 9 subsets.
"""

from __future__ import annotations

from dataclasses import dataclass

from videossr.names import unknown

BENCH_VERSION = "viubench-1.1"
RECIPE_NAME = "viubench"  # the built-in recipe the benchmark is built from
PAPER_PER_SUBSET = 300


@dataclass(frozen=True)
class Subset:
    name: str  # column name in the published table, e.g. "grounding_channel_swap"
    task: str  # videossr task
    variant: str  # task variant (recipe entry)
    ability: str  # fine-grained | spatial | temporal
    label: str  # short column header in the paper layout

    @property
    def entry_key(self) -> str:
        """The recipe entry / build ``task-variant`` key this subset is made from."""
        return f"{self.task}-{self.variant}"


_SUBSETS = (
    Subset("counting_easy", "counting", "easy", "fine-grained", "Easy"),
    Subset("counting_hard", "counting", "hard", "fine-grained", "Hard"),
    Subset("grounding_channel_swap", "grounding", "channel_swap", "spatial", "ChSwap"),
    Subset("grounding_rotate180", "grounding", "rotate180", "spatial", "Rotate"),
    Subset("grounding_zoom_out", "grounding", "zoom_out", "spatial", "ZoomOut"),
    Subset("grounding_mirror", "grounding", "mirror", "spatial", "Mirror"),
    Subset("grounding_shuffle", "grounding", "shuffle", "temporal", "Shuffle"),
    Subset("jigsaw_easy", "jigsaw", "easy", "temporal", "Easy"),
    Subset("jigsaw_hard", "jigsaw", "hard", "temporal", "Hard"),
)

SUBSETS: tuple[str, ...] = tuple(s.name for s in _SUBSETS)
SUBSET_INFO: dict[str, Subset] = {s.name: s for s in _SUBSETS}
TASKS: tuple[str, ...] = ("counting", "grounding", "jigsaw")  # paper order of the task groups
ABILITIES: tuple[str, ...] = ("fine-grained", "spatial", "temporal")


def subset(name: str) -> Subset:
    if name not in SUBSET_INFO:
        raise unknown("VIUBench subset", name, SUBSETS)
    return SUBSET_INFO[name]


def subset_for(task: str, variant: str) -> Subset:
    """The subset a build row of ``task``/``variant`` belongs to."""
    return subset(f"{task}_{variant}")


def subsets_of_task(task: str) -> tuple[str, ...]:
    return tuple(s.name for s in _SUBSETS if s.task == task)


def subsets_of_ability(ability: str) -> tuple[str, ...]:
    return tuple(s.name for s in _SUBSETS if s.ability == ability)
