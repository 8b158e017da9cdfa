"""Recipes: which task variants a build makes, in what proportions (YAML data files)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from videossr.errors import UserError
from videossr.names import did_you_mean, unknown
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

    def canonical(self) -> dict:
        """The recipe as plain data (what a build depends on, seed excluded), for records and hashes."""
        return {
            "name": self.name, "sampling": asdict(self.sampling),
            "training_pixels": {"max_pixels": self.train_max_pixels, "min_pixels": self.train_min_pixels},
            "entries": [{"task": e.task, "variant": e.variant, "weight": e.weight, "options": e.options} for e in self.entries],
        }

    def content_hash(self) -> str:
        return hashlib.blake2b(json.dumps(self.canonical(), sort_keys=True).encode(), digest_size=8).hexdigest()

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
    """A built-in recipe by name (``videossr30k``) or a YAML file path, fully validated."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if path.is_dir():
            raise UserError(f"recipe {path} is a directory; pass a .yaml file or a built-in name ({', '.join(builtin_recipes())})")
        if not path.is_file():
            raise UserError(f"recipe file not found: {path}")
        text, where = path.read_text(encoding="utf-8"), str(path)
    else:
        names = builtin_recipes()
        if str(name_or_path) not in names:
            raise unknown("recipe (or pass a .yaml file)", name_or_path, names)
        text, where = resources.files("videossr.recipes").joinpath(f"{name_or_path}.yaml").read_text(encoding="utf-8"), str(name_or_path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise UserError(f"recipe {where} is not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    try:
        return parse_recipe(data)
    except ValueError as exc:
        raise UserError(f"recipe {where}: {exc}") from None


TOP_KEYS = ("name", "description", "seed", "sampling", "training_pixels", "entries")
ENTRY_KEYS = ("task", "variant", "weight", "options")
SAMPLING_KEYS = ("num_frames", "max_pixels", "min_side")
PIXEL_KEYS = ("max_pixels", "min_pixels")


def _mapping(value, where: str, keys: tuple[str, ...]) -> dict:
    """``value`` as a dict whose keys are all in ``keys`` (None -> empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a mapping of {', '.join(keys)}, got {value!r}")
    for key in value:
        if key not in keys:
            raise ValueError(f"unknown key {key!r} in {where}{did_you_mean(key, keys)}")
    return value


def _integer(value, where: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{where} must be >= {minimum}, got {value}")
    return value


def _entry(raw, position: int, num_frames: int) -> RecipeEntry:
    where = f"entries[{position}]"
    raw = _mapping(raw, where, ENTRY_KEYS)
    for key in ("task", "variant"):
        if not isinstance(raw.get(key), (str, int)) or isinstance(raw.get(key), bool):
            raise ValueError(f"{where} needs a '{key}' name, got {raw.get(key)!r}")
    weight = raw.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
        raise ValueError(f"{where}: weight must be a number > 0, got {weight!r}")
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        raise ValueError(f"{where}: options must be a mapping, got {options!r}")
    entry = RecipeEntry(task=str(raw["task"]), variant=str(raw["variant"]), weight=float(weight), options=dict(options))
    try:
        module = get_task(entry.task)
        module.check_frames(module.options(entry.variant, **entry.options), num_frames)
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise ValueError(f"{where} ({entry.key}): {message}") from None
    return entry


def parse_recipe(data) -> Recipe:
    """A validated :class:`Recipe` from parsed YAML: unknown keys, wrong types and options that cannot
    work with the recipe's frame count are refused here, before any video is decoded."""
    data = _mapping(data, "the recipe", TOP_KEYS)
    entries_raw = data.get("entries")
    if not isinstance(entries_raw, list) or not entries_raw:
        raise ValueError(f"a recipe needs a non-empty 'entries' list, got {entries_raw!r}")
    pixels = _mapping(data.get("training_pixels"), "training_pixels", PIXEL_KEYS)
    max_px = _integer(pixels.get("max_pixels", 256 * 256), "training_pixels.max_pixels", 1)
    min_px = _integer(pixels.get("min_pixels", 128 * 128), "training_pixels.min_pixels", 1)
    if min_px > max_px:
        raise ValueError(f"training_pixels: min_pixels={min_px} is above max_pixels={max_px}")
    sampling_raw = _mapping(data.get("sampling"), "sampling", SAMPLING_KEYS)
    for key, value in sampling_raw.items():
        _integer(value, f"sampling.{key}", 1)
    # the frame store holds frames at the size the recipe trains at unless the recipe says otherwise
    sampling = SamplingConfig(**{"max_pixels": max_px, **sampling_raw})
    entries = [_entry(raw, i, sampling.num_frames) for i, raw in enumerate(entries_raw)]
    keys = [e.key for e in entries]
    if len(set(keys)) != len(keys):
        raise ValueError(f"recipe entries must have distinct task-variant pairs, got {keys}")
    name = data.get("name", "custom")
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    return Recipe(name=name, entries=tuple(entries), seed=_integer(data.get("seed", 0), "seed"), sampling=sampling,
                  train_max_pixels=max_px, train_min_pixels=min_px)
