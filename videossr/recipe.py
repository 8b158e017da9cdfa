"""Recipes: which task variants a build makes, in what proportions (YAML data files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from videossr.names import unknown
from videossr.sampling import SamplingConfig
from videossr.tasks import get_task


@dataclass(frozen=True)
class RecipeEntry:
    task: str
    variant: str
    weight: float
    options: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.task}-{self.variant}"

    @property
    def needs_donor(self) -> bool:
        return self.task == "grounding" and "swap" in get_task("grounding").options(self.variant, **self.options).perturbations


@dataclass(frozen=True)
class Recipe:
    name: str
    entries: tuple[RecipeEntry, ...]
    seed: int = 0
    sampling: SamplingConfig = SamplingConfig()
    train_max_pixels: int = 256 * 256
    train_min_pixels: int = 128 * 128

    def allocate(self, num_videos: int, size: int | None = None) -> dict[str, int]:
        """Samples per entry: ``size`` split by weight (largest remainder), or by default the
        smallest-weight entry once per video and the others in proportion."""
        total_weight = sum(e.weight for e in self.entries)
        if size is None:
            size = round(num_videos * total_weight / min(e.weight for e in self.entries))
        exact = [size * e.weight / total_weight for e in self.entries]
        counts = [int(x) for x in exact]
        by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
        for i in by_remainder[: size - sum(counts)]:
            counts[i] += 1
        return {e.key: c for e, c in zip(self.entries, counts)}


def builtin_recipes() -> list[str]:
    return sorted(p.name[: -len(".yaml")] for p in resources.files("videossr.recipes").iterdir() if p.name.endswith(".yaml"))


def load_recipe(name_or_path: str | Path) -> Recipe:
    """A built-in recipe by name (``videossr30k``) or a YAML file path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"recipe file not found: {path}")
        text = path.read_text(encoding="utf-8")
    else:
        names = builtin_recipes()
        if str(name_or_path) not in names:
            raise unknown("recipe (or pass a .yaml file)", name_or_path, names)
        text = resources.files("videossr.recipes").joinpath(f"{name_or_path}.yaml").read_text(encoding="utf-8")
    return parse_recipe(yaml.safe_load(text))


def parse_recipe(data: dict) -> Recipe:
    if not isinstance(data, dict) or not data.get("entries"):
        raise ValueError("a recipe needs a non-empty 'entries' list")
    entries = []
    for raw in data["entries"]:
        entry = RecipeEntry(task=raw["task"], variant=str(raw["variant"]), weight=float(raw.get("weight", 1)), options=dict(raw.get("options") or {}))
        if entry.weight <= 0:
            raise ValueError(f"entry {entry.key}: weight must be > 0")
        get_task(entry.task).options(entry.variant, **entry.options)  # validates names and options
        entries.append(entry)
    keys = [e.key for e in entries]
    if len(set(keys)) != len(keys):
        raise ValueError(f"recipe entries must have distinct task-variant pairs, got {keys}")
    sampling = SamplingConfig(**(data.get("sampling") or {}))
    pixels = data.get("training_pixels") or {}
    return Recipe(
        name=str(data.get("name", "custom")), entries=tuple(entries), seed=int(data.get("seed", 0)), sampling=sampling,
        train_max_pixels=int(pixels.get("max_pixels", 256 * 256)), train_min_pixels=int(pixels.get("min_pixels", 128 * 128)),
    )
