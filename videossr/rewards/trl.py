"""TRL reward functions: ``reward(prompts=None, completions=..., **dataset_columns) -> list[float]``.

::

    from videossr.rewards.trl import VideoSSRReward

    trainer = GRPOTrainer(
        ...,
        reward_funcs=[VideoSSRReward("smooth"), VideoSSRReward("format")],
        args=GRPOConfig(..., reward_weights=[1.0, 0.0]),  # log format_ok without training on it
    )

TRL passes every dataset column as a keyword list aligned with ``completions``. The reward
reads ``data_source`` (or ``task``) and the ground truth from either a ``ground_truth`` column
or a verl-style ``reward_model`` column of ``{"style": "rule", "ground_truth": ...}`` dicts.
Completions may be plain strings or conversational (a list of message dicts, whose last
assistant message is scored; its content may be a string or a list of text parts).

Instances are small picklable objects (TRL may ship them to other processes) and carry the
``__name__`` TRL uses to label the logged reward.
"""

from __future__ import annotations

from typing import Any, Sequence

from videossr.rewards import compute, data_source_for

MODES = ("smooth", "strict", "format")


class VideoSSRReward:
    """One VideoSSR reward for TRL: ``mode`` is "smooth", "strict" or "format" (1.0 when the answer parses)."""

    def __init__(self, mode: str = "smooth"):
        if mode not in MODES:
            raise ValueError(f"unknown reward mode {mode!r} (known: {', '.join(MODES)})")
        self.mode = mode
        self.__name__ = f"videossr_{mode}"

    def __repr__(self) -> str:
        return f"VideoSSRReward(mode={self.mode!r})"

    def __call__(self, prompts=None, completions: Sequence[Any] | None = None, **columns) -> list[float]:
        if completions is None:
            raise TypeError(f"{self.__name__} needs completions=")
        count = len(completions)
        data_sources = _data_sources(columns, count)
        truths = _ground_truths(columns, count)
        return [self._reward(completion, source, truth) for completion, source, truth in zip(completions, data_sources, truths)]

    def _reward(self, completion, data_source: str, ground_truth: str) -> float:
        result = compute(data_source, completion_text(completion), ground_truth, mode="strict" if self.mode == "strict" else "smooth")
        if self.mode == "format":
            return 1.0 if result.format_ok else 0.0
        return result.reward


def completion_text(completion) -> str:
    """The text of one TRL completion: a string, or the last assistant message of a conversation."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content_text(completion.get("content"))
    if isinstance(completion, (list, tuple)):
        messages = [m for m in completion if isinstance(m, dict)]
        replies = [m for m in messages if m.get("role", "assistant") == "assistant"] or messages
        return _content_text(replies[-1].get("content")) if replies else ""
    return "" if completion is None else str(completion)


def _content_text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        parts = [part.get("text") for part in content if isinstance(part, dict)]
        return "".join(text for text in parts if isinstance(text, str))
    return "" if content is None else str(content)


def _column(columns: dict, name: str, count: int) -> list:
    values = list(columns[name])
    if len(values) != count:
        raise ValueError(f"column {name!r} has {len(values)} values for {count} completions")
    return values


def _data_sources(columns: dict, count: int) -> list[str]:
    if "data_source" in columns:
        return _column(columns, "data_source", count)
    if "task" in columns:
        return [data_source_for(task) for task in _column(columns, "task", count)]
    raise ValueError(f"videossr rewards need a 'data_source' (or 'task') column; got columns {sorted(columns)}")


def _ground_truths(columns: dict, count: int) -> list[str]:
    if "ground_truth" in columns:
        return _column(columns, "ground_truth", count)
    if "reward_model" in columns:
        specs = _column(columns, "reward_model", count)
        if all(isinstance(spec, dict) and "ground_truth" in spec for spec in specs):
            return [spec["ground_truth"] for spec in specs]
        raise ValueError("every 'reward_model' value must be a dict with a 'ground_truth' key")
    raise ValueError(f"videossr rewards need a 'ground_truth' or 'reward_model' column; got columns {sorted(columns)}")


smooth_reward = VideoSSRReward("smooth")
strict_reward = VideoSSRReward("strict")
format_reward = VideoSSRReward("format")
