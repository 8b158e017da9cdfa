"""Evaluation harness: targets (VIUBench, build datasets, outside VQA/VTG JSON), the resumable
runner and the reports. Backends live in :mod:`videossr.backends`.

>>> target = load_target("ds/")                                   # doctest: +SKIP
>>> report = run_eval(target, get_backend("replay", path="p.jsonl"), "eval-out")   # doctest: +SKIP
"""

from videossr.evaluate.loading import load_target
from videossr.evaluate.target import DEFAULT_MAX_FRAMES, TARGET_KINDS, EvalItem, ItemScore, Target
from videossr.evaluate.runner import run_eval

__all__ = ["DEFAULT_MAX_FRAMES", "TARGET_KINDS", "EvalItem", "ItemScore", "Target", "load_target", "run_eval"]
