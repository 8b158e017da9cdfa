"""TRL reward functions: TRL's call signature, both column layouts, conversational completions, pickling."""

import inspect
import pickle

import pytest

from videossr.rewards import data_source_for
from videossr.rewards.trl import VideoSSRReward, completion_text, format_reward, smooth_reward, strict_reward

COMPLETIONS = ["<answer>3,1,5</answer>", "12.5-20", "nothing useful"]
DATA_SOURCES = [data_source_for("counting"), data_source_for("grounding"), data_source_for("jigsaw")]
TRUTHS = ["3,1,4", "10.0-20.0", "315264"]
SMOOTH = [pytest.approx((1 + 1 + 0.75) / 3), pytest.approx(0.75), 0.0]


def _call_like_trl(reward, completions, **columns):
    """GRPOTrainer passes prompts, completions, completion_ids, trainer_state and every other column."""
    return reward(prompts=["<video>Q?"] * len(completions), completions=completions,
                  completion_ids=[[1, 2, 3]] * len(completions), trainer_state=None, **columns)


def test_smooth_strict_and_format_rewards_from_ground_truth_columns():
    columns = dict(data_source=DATA_SOURCES, ground_truth=TRUTHS, extra_info=[{}] * 3, ability=["x"] * 3)
    assert _call_like_trl(smooth_reward, COMPLETIONS, **columns) == SMOOTH
    assert _call_like_trl(strict_reward, COMPLETIONS, **columns) == [0.0, 0.0, 0.0]
    assert _call_like_trl(format_reward, COMPLETIONS, **columns) == [1.0, 1.0, 0.0]


def test_verl_style_reward_model_column_and_task_column():
    reward_model = [{"style": "rule", "ground_truth": truth} for truth in TRUTHS]
    assert _call_like_trl(smooth_reward, COMPLETIONS, data_source=DATA_SOURCES, reward_model=reward_model) == SMOOTH
    tasks = ["counting", "grounding", "jigsaw"]
    assert _call_like_trl(smooth_reward, COMPLETIONS, task=tasks, ground_truth=TRUTHS) == SMOOTH


def test_conversational_completions_score_the_last_assistant_message():
    conversational = [
        [{"role": "assistant", "content": "<answer>3,1,5</answer>"}],
        [{"role": "assistant", "content": [{"type": "text", "text": "12.5-"}, {"type": "text", "text": "20"}]}],
        [{"role": "assistant", "content": "315264"}, {"role": "user", "content": "are you sure?"},
         {"role": "assistant", "content": "nothing useful"}],
    ]
    assert _call_like_trl(smooth_reward, conversational, data_source=DATA_SOURCES, ground_truth=TRUTHS) == SMOOTH


@pytest.mark.parametrize("completion, text", [("a", "a"), ({"content": "b"}, "b"), ([], ""), (None, ""), ([{"role": "user", "content": "c"}], "c")])
def test_completion_text_handles_every_shape(completion, text):
    assert completion_text(completion) == text


def test_instances_pickle_and_carry_a_name_for_trl_logs():
    for reward in (VideoSSRReward("smooth"), VideoSSRReward("strict"), VideoSSRReward("format")):
        clone = pickle.loads(pickle.dumps(reward))
        assert clone.__name__ == reward.__name__ == f"videossr_{reward.mode}"
        assert clone.mode == reward.mode
        assert _call_like_trl(clone, COMPLETIONS, data_source=DATA_SOURCES, ground_truth=TRUTHS) == \
            _call_like_trl(reward, COMPLETIONS, data_source=DATA_SOURCES, ground_truth=TRUTHS)


def test_signature_matches_trl_reward_functions():
    parameters = inspect.signature(VideoSSRReward.__call__).parameters
    assert list(parameters)[:3] == ["self", "prompts", "completions"]
    assert parameters["prompts"].default is None
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


@pytest.mark.parametrize(
    "columns, message",
    [
        (dict(ground_truth=TRUTHS), "data_source"),
        (dict(data_source=DATA_SOURCES), "ground_truth"),
        (dict(data_source=DATA_SOURCES[:2], ground_truth=TRUTHS), "2 values for 3 completions"),
        (dict(data_source=DATA_SOURCES, reward_model=[{"style": "rule"}] * 3), "ground_truth"),
        (dict(data_source=["videossr/countnig"] * 3, ground_truth=TRUTHS), "did you mean"),
    ],
)
def test_missing_or_misaligned_columns_fail_loudly(columns, message):
    with pytest.raises(ValueError, match=message):
        _call_like_trl(smooth_reward, COMPLETIONS, **columns)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown reward mode"):
        VideoSSRReward("soft")
