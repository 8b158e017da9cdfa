"""A ``videossr build`` dataset as an evaluation target, scored with our rewards.

Each parquet row becomes one item: the row's system prompt and user text (one ``<video>`` per
``videos`` entry, replaced by that entry's frames and ``sample_fps``), ground truth
``reward_model.ground_truth``, groups task / variant. Scores: smooth reward (``score``), strict
reward and ``format_ok`` from :func:`videossr.rewards.compute`; ``parsed`` is the answer region
the reward read (``None`` on a format failure).
"""

from __future__ import annotations

from pathlib import Path

from videossr.backends.base import Request, Video
from videossr.errors import UserError
from videossr.evaluate.report import group_report
from videossr.evaluate.target import EvalItem, ItemScore, Target
from videossr.rewards import compute
from videossr.prompt_parts import interleave


def request_from_prompt(system: str, user_text: str, videos: list[Video]) -> Request:
    """Split ``user_text`` at each ``<video>`` and put the videos there, in order."""
    return Request(system=system, parts=interleave(user_text, videos))


def _row_item(row: dict) -> EvalItem:
    messages = {m["role"]: m["content"] for m in row["prompt"]}
    videos = [Video(frames=tuple(v["video"]), sample_fps=float(v["sample_fps"]), max_pixels=v.get("max_pixels"), min_pixels=v.get("min_pixels")) for v in row["videos"]]
    extra = row["extra_info"]
    request = request_from_prompt(messages.get("system", ""), messages.get("user", ""), videos)
    return EvalItem(id=str(extra["sample_id"]), request=request, ground_truth=row["reward_model"]["ground_truth"],
                    groups={"task": extra["task"], "variant": extra["variant"]}, payload=row["data_source"])


def score_with_rewards(item: EvalItem, text: str) -> ItemScore:
    result = compute(item.payload, text, item.ground_truth)
    return ItemScore.from_reward(result, text, result.score)


def _report(target: Target, results: dict, *, label: str = "model") -> dict:
    return group_report(target, results, label=label, group_keys=("task", "variant"), metric="smooth")


def load_dataset(path: Path, *, limit: int | None = None) -> Target:
    import pyarrow.parquet as pq

    parquet = path / "train.parquet" if path.is_dir() else path
    try:
        rows = pq.read_table(parquet, columns=["data_source", "prompt", "videos", "reward_model", "extra_info"]).to_pylist()
    except (OSError, KeyError) as exc:
        raise UserError(f"{parquet} is not a videossr build parquet: {exc}") from None
    from videossr.export import confine_frames, dataset_root

    confine_frames(rows, dataset_root(parquet), str(parquet))  # frames are read and sent: they stay in the dataset folder
    rows.sort(key=lambda r: r["extra_info"]["sample_id"])
    items = tuple(_row_item(r) for r in rows[:limit])
    info = {"kind": "dataset", "path": str(parquet.resolve())}
    return Target(kind="dataset", path=str(parquet.resolve()), items=items, scorer=score_with_rewards, reporter=_report,
                  info={**info, "id_field": "sample_id"})
