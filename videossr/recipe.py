"""Recipes: which task variants a build makes, in what proportions (YAML data files)."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from videossr.errors import UserError
from videossr.names import did_you_mean, short_repr, unknown
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
            size = self.default_size(num_videos)
        exact = [size * e.weight / total_weight for e in self.entries]
        counts = [int(x) for x in exact]
        by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
        for i in by_remainder[: size - sum(counts)]:
            counts[i] += 1
        return {e.key: c for e, c in zip(self.entries, counts)}


    def default_size(self, num_videos: int) -> int:
        """The sample count a build makes without ``--size``: the smallest-weight entry once per video
        and the others in proportion; refused (one line) above :data:`MAX_DEFAULT_SAMPLES`."""
        per_video = sum(e.weight for e in self.entries) / min(e.weight for e in self.entries)
        size = round(num_videos * per_video)
        if size > MAX_DEFAULT_SAMPLES:
            raise UserError(f"recipe {self.name!r} asks for {size:,} samples from {num_videos:,} video(s) ({per_video:,.4g} per video, "
                            f"the weights' total over the smallest); the limit without --size is {MAX_DEFAULT_SAMPLES:,}: "
                            "pass --size N, or use weights closer to each other")
        return size


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
    if len(text) > MAX_RECIPE_CHARS:
        raise UserError(f"recipe {where} has {len(text):,} characters; a recipe is at most {MAX_RECIPE_CHARS:,}")
    try:
        data = _load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise UserError(f"recipe {where} is not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    try:
        return parse_recipe(data)
    except ValueError as exc:
        raise UserError(f"recipe {where}: {exc}") from None


# ----------------------------------------------------------------------------- bounds
# Every number of a recipe is checked against these before any video is decoded.
MAX_RECIPE_CHARS = 1_000_000
MAX_YAML_NODES = 100_000
"""Values a recipe may hold once YAML aliases are expanded (an alias bomb of 400 bytes names billions)."""
MAX_FRAMES = 4096  # sampling.num_frames
MAX_PIXELS = 4096 * 4096  # sampling.max_pixels, training_pixels.*, and num_frames * max_pixels / MAX_FRAMES
MAX_FRAME_STACK_PIXELS = 1 << 31
"""num_frames * max_pixels: one video's kept frames in memory (x3 bytes, RGB): at most 6 GiB."""
MAX_MIN_SIDE = 4096
MAX_WEIGHT = 1e9
MAX_DEFAULT_SAMPLES = 10_000_000
"""Samples a build makes without ``--size`` (videos x the weights' total over the smallest weight)."""
MAX_OPTION_INT = 4096  # any integer option (lengths, counts, attempts, spacing)
MAX_OPTION_FLOAT = 1e6  # any other number in options; all must be finite
MAX_ENTRIES = 1000
MAX_NAME_CHARS = 200


def _expanded_size(node, sizes: dict, stack: set) -> int:
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in stack:
        raise ValueError("the recipe YAML refers to itself (a recursive alias)")
    stack.add(key)
    children = node.value if isinstance(node, yaml.SequenceNode) else [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else []
    total = 1
    for child in children:
        total += _expanded_size(child, sizes, stack)
        if total > MAX_YAML_NODES:
            raise ValueError(f"the recipe YAML expands to more than {MAX_YAML_NODES:,} values (YAML aliases repeating aliases?)")
    stack.discard(key)
    sizes[key] = total
    return total


def _load_yaml(text: str):
    """``yaml.safe_load``, refusing a document whose aliases expand to more than :data:`MAX_YAML_NODES`
    values: the size is counted on the composed node graph (aliases are shared nodes there), before
    any Python object is built."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            _expanded_size(node, {}, set())
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _number(value, where: str, *, low: float, high: float, integer: bool = False, low_open: bool = False):
    """``value`` as a finite int (``integer``) or float in [low, high] (``(low, high]`` with ``low_open``)."""
    if integer:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where} must be an integer, got {short_repr(value)}")
    elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {short_repr(value)}")
    if not (low < value if low_open else low <= value) or value > high:
        raise ValueError(f"{where} must be in {'(' if low_open else '['}{_bound(low)}, {_bound(high)}], got {short_repr(value)}")
    return value


def _bound(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


def _check_option_numbers(value, where: str) -> None:
    """Every number in an entry's options (lists included) finite and within the option limits."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_option_numbers(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_option_numbers(item, where)
    elif isinstance(value, int) and not isinstance(value, bool):
        _number(value, where, low=-MAX_OPTION_INT, high=MAX_OPTION_INT, integer=True)
    elif isinstance(value, float):
        _number(value, where, low=-MAX_OPTION_FLOAT, high=MAX_OPTION_FLOAT)


TOP_KEYS = ("name", "description", "seed", "sampling", "training_pixels", "entries")
ENTRY_KEYS = ("task", "variant", "weight", "options")
SAMPLING_KEYS = ("num_frames", "max_pixels", "min_side")
PIXEL_KEYS = ("max_pixels", "min_pixels")


def _mapping(value, where: str, keys: tuple[str, ...]) -> dict:
    """``value`` as a dict whose keys are all in ``keys`` (None -> empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a mapping of {', '.join(keys)}, got {short_repr(value)}")
    for key in value:
        if key not in keys:
            raise ValueError(f"unknown key {short_repr(key)} in {where}{did_you_mean(key, keys)}")
    return value


def _integer(value, where: str, minimum: int = -(2**63), maximum: int = 2**63 - 1) -> int:
    return _number(value, where, low=minimum, high=maximum, integer=True)


def _entry(raw, position: int, num_frames: int) -> RecipeEntry:
    where = f"entries[{position}]"
    raw = _mapping(raw, where, ENTRY_KEYS)
    for key in ("task", "variant"):
        if not isinstance(raw.get(key), (str, int)) or isinstance(raw.get(key), bool) or len(str(raw.get(key))) > MAX_NAME_CHARS:
            raise ValueError(f"{where} needs a '{key}' name, got {short_repr(raw.get(key))}")
    weight = _number(raw.get("weight", 1), f"{where}: weight", low=0, high=MAX_WEIGHT, low_open=True)
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        raise ValueError(f"{where}: options must be a mapping, got {short_repr(options)}")
    _check_option_numbers(options, f"{where}: options")
    entry = RecipeEntry(task=str(raw["task"]), variant=str(raw["variant"]), weight=float(weight), options=dict(options))
    try:
        module = get_task(entry.task)
        module.check_frames(module.options(entry.variant, **entry.options), num_frames)
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise ValueError(f"{where} ({entry.key}): {message if len(message) <= 300 else message[:297] + '...'}") from None
    return entry


def parse_recipe(data) -> Recipe:
    """A validated :class:`Recipe` from parsed YAML: unknown keys, wrong types and options that cannot
    work with the recipe's frame count are refused here, before any video is decoded."""
    data = _mapping(data, "the recipe", TOP_KEYS)
    entries_raw = data.get("entries")
    if not isinstance(entries_raw, list) or not entries_raw or len(entries_raw) > MAX_ENTRIES:
        raise ValueError(f"a recipe needs a non-empty 'entries' list of at most {MAX_ENTRIES}, got {short_repr(entries_raw)}")
    pixels = _mapping(data.get("training_pixels"), "training_pixels", PIXEL_KEYS)
    max_px = _integer(pixels.get("max_pixels", 256 * 256), "training_pixels.max_pixels", 1, MAX_PIXELS)
    min_px = _integer(pixels.get("min_pixels", 128 * 128), "training_pixels.min_pixels", 1, MAX_PIXELS)
    if min_px > max_px:
        raise ValueError(f"training_pixels: min_pixels={min_px} is above max_pixels={max_px}")
    sampling_raw = _mapping(data.get("sampling"), "sampling", SAMPLING_KEYS)
    limits = {"num_frames": MAX_FRAMES, "max_pixels": MAX_PIXELS, "min_side": MAX_MIN_SIDE}
    for key, value in sampling_raw.items():
        _integer(value, f"sampling.{key}", 1, limits[key])
    # the frame store holds frames at the size the recipe trains at unless the recipe says otherwise
    sampling = SamplingConfig(**{"max_pixels": max_px, **sampling_raw})
    if sampling.num_frames * sampling.max_pixels > MAX_FRAME_STACK_PIXELS:
        raise ValueError(f"sampling: num_frames={sampling.num_frames} frames of max_pixels={sampling.max_pixels} are more than "
                         f"{MAX_FRAME_STACK_PIXELS:,} pixels per video in memory; lower one of them")
    entries = [_entry(raw, i, sampling.num_frames) for i, raw in enumerate(entries_raw)]
    keys = [e.key for e in entries]
    if len(set(keys)) != len(keys):
        raise ValueError(f"recipe entries must have distinct task-variant pairs, got {short_repr(keys, 300)}")
    name = data.get("name", "custom")
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_CHARS:
        raise ValueError(f"name must be a non-empty string of at most {MAX_NAME_CHARS} characters, got {short_repr(name)}")
    return Recipe(name=name, entries=tuple(entries), seed=_integer(data.get("seed", 0), "seed"), sampling=sampling,
                  train_max_pixels=max_px, train_min_pixels=min_px)
