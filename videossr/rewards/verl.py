"""verl reward plug-in (verl 0.9.x): a ``compute_score`` that verl loads by module path.

Config, no patching of verl::

    reward.custom_reward_function.path=pkg://videossr.rewards.verl
    reward.custom_reward_function.name=compute_score          # smooth reward (the paper's)
    reward.custom_reward_function.name=compute_score_strict   # or: exact-match reward

verl's naive reward manager calls ``compute_score(data_source=, solution_str=, ground_truth=,
extra_info=)`` per response; extra keyword arguments from
``+reward.custom_reward_function.reward_kwargs.*`` are merged in (``mode=strict`` works too).

The returned dict has ``"score"`` (the reward) plus diagnostics that verl logs as metrics. Every
call returns the same numeric keys (``METRIC_KEYS``) whatever the task, because verl stacks each
key across the whole, mixed-task batch and fails on a key that only some rows have.
"""

from __future__ import annotations

from videossr.rewards import compute

METRIC_KEYS = ("score", "smooth", "strict", "format_ok", "viubench")


def compute_score(data_source, solution_str, ground_truth, extra_info=None, mode: str = "smooth", **kwargs) -> dict[str, float]:
    """Score one response: ``{"score", "smooth", "strict", "format_ok", "viubench"}``, all floats in [0, 1].

    ``score`` is the ``mode`` reward ("smooth" or "strict"); ``extra_info`` and any other keyword
    arguments verl passes (``num_turns``, ``reward_router_address``, ...) are accepted and unused.
    """
    result = compute(data_source, solution_str, ground_truth, mode=mode)
    if isinstance(extra_info, dict) and extra_info.get("live"):  # a live-difficulty row: tell its controller
        from videossr.live.hub import report

        report(extra_info, result.score)
    return {
        "score": result.reward,
        "smooth": result.score,
        "strict": result.strict,
        "format_ok": 1.0 if result.format_ok else 0.0,
        "viubench": result.detail("viubench"),
    }


def compute_score_strict(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict[str, float]:
    """``compute_score`` with the strict (exact-match) reward as ``"score"``."""
    kwargs.pop("mode", None)
    return compute_score(data_source, solution_str, ground_truth, extra_info, mode="strict", **kwargs)
