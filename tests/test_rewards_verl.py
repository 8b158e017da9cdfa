"""The verl plug-in, called the way verl 0.9's reward managers call it.

The first tests need no verl: they pin the call shape (keyword arguments, extra kwargs, one set of
numeric keys for every task). The rest load the plug-in through verl's own loader
(``reward.custom_reward_function.path=pkg://...``) and run verl's naive reward managers on a
DataProto batch; they are skipped where verl is not installed.
"""

import importlib.util

import pytest

from videossr.rewards import TASKS, data_source_for
from videossr.rewards import verl as plugin

BATCH = [  # (response, task, ground truth, expected smooth score, expected format_ok)
    ("<answer>3,1,4</answer>", "counting", "3,1,4", 1.0, 1.0),
    ("<think>hmm</think>12.5 - 20 seconds", "grounding", "10.0-20.0", 0.75, 1.0),
    ("Clip 2, Clip 1, Clip 3", "jigsaw", "213", 1.0, 1.0),
    ("I am not sure.", "grounding", "1.0-2.0", 0.0, 0.0),
    ("3,1,4,5", "counting", "3,1,4", 0.0, 0.0),
    ("3,1,2", "jigsaw", "123", 1 - 4 / 4, 1.0),
]


def _call_like_verl(compute_score, response, task, truth):
    return compute_score(data_source=data_source_for(task), solution_str=response, ground_truth=truth,
                         extra_info={"index": 0, "num_turns": None, "rollout_reward_scores": {}})


@pytest.mark.parametrize("response, task, truth, smooth, format_ok", BATCH)
def test_compute_score_returns_the_score_and_numeric_metrics(response, task, truth, smooth, format_ok):
    result = _call_like_verl(plugin.compute_score, response, task, truth)
    assert tuple(result) == plugin.METRIC_KEYS
    assert all(type(value) is float for value in result.values())
    assert result["score"] == pytest.approx(smooth) and result["smooth"] == result["score"]
    assert result["format_ok"] == format_ok


def test_every_task_and_failure_returns_the_same_keys():
    """verl stacks each metric over a mixed-task batch; a key missing in one row breaks it."""
    key_sets = {tuple(_call_like_verl(plugin.compute_score, response, task, truth)) for response, task, truth, _, _ in BATCH}
    assert key_sets == {plugin.METRIC_KEYS}
    assert {task for _, task, _, _, _ in BATCH} == set(TASKS)


def test_strict_mode_by_name_or_by_reward_kwargs():
    args = dict(data_source=data_source_for("counting"), solution_str="3,1,5", ground_truth="3,1,4", extra_info=None)
    assert plugin.compute_score(**args)["score"] > 0.9
    assert plugin.compute_score_strict(**args)["score"] == 0.0
    assert plugin.compute_score(**args, mode="strict")["score"] == 0.0
    assert plugin.compute_score_strict(**args, mode="smooth")["score"] == 0.0  # the name wins
    assert plugin.compute_score(**args, reward_router_address=None, reward_model_tokenizer=None)["strict"] == 0.0


# ------------------------------------------------------------------------------ with verl itself

needs_verl = pytest.mark.skipif(importlib.util.find_spec("verl") is None, reason="verl is not installed")
quiet_ray = pytest.mark.filterwarnings("ignore:Ray state API:DeprecationWarning")  # raised by ray on import


class CharTokenizer:
    """Token id = code point (0 is padding): enough for verl's decode call, no vocabulary files."""

    def encode(self, text):
        return [ord(c) for c in text]

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(int(i)) for i in ids if int(i) > 0)


def _data_proto(items, prompt_length=16, response_length=96):
    """A DataProto laid out as after rollout: left-padded prompts, right-padded responses."""
    import numpy as np
    import torch
    from verl import DataProto

    tokenizer = CharTokenizer()
    prompts, responses, masks = [], [], []
    for response, _, _, _, _ in items:
        prompt_ids = tokenizer.encode("<video>Question?")[-prompt_length:]
        response_ids = tokenizer.encode(response)[:response_length]
        prompt_pad, response_pad = prompt_length - len(prompt_ids), response_length - len(response_ids)
        prompts.append([0] * prompt_pad + prompt_ids)
        responses.append(response_ids + [0] * response_pad)
        masks.append([0] * prompt_pad + [1] * (len(prompt_ids) + len(response_ids)) + [0] * response_pad)
    tensors = {"prompts": torch.tensor(prompts), "responses": torch.tensor(responses), "attention_mask": torch.tensor(masks)}
    tensors["input_ids"] = torch.cat([tensors["prompts"], tensors["responses"]], dim=1)
    non_tensors = {
        "data_source": np.array([data_source_for(task) for _, task, _, _, _ in items], dtype=object),
        "reward_model": np.array([{"style": "rule", "ground_truth": truth} for _, _, truth, _, _ in items], dtype=object),
        "extra_info": np.array([{"index": i, "split": "train"} for i in range(len(items))], dtype=object),
    }
    return DataProto.from_dict(tensors=tensors, non_tensors=non_tensors)


def _config(name="compute_score", reward_kwargs=None):
    from omegaconf import OmegaConf

    custom = {"path": "pkg://videossr.rewards.verl", "name": name}
    if reward_kwargs:
        custom["reward_kwargs"] = reward_kwargs
    return OmegaConf.create({"reward": {"custom_reward_function": custom, "reward_manager": {"source": "register", "name": "naive"}}})


@needs_verl
@quiet_ray
@pytest.mark.parametrize("name, reward_kwargs, strict", [("compute_score", None, False), ("compute_score_strict", None, True), ("compute_score", {"mode": "strict"}, True)])
def test_verl_reward_loop_naive_manager_scores_a_mixed_batch(name, reward_kwargs, strict):
    """verl 0.9's main_ppo path: load_reward_manager -> NaiveRewardManager.run_single per sample."""
    import numpy as np
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager
    from verl.trainer.ppo.reward import load_reward_manager

    manager = load_reward_manager(_config(name, reward_kwargs), CharTokenizer())
    assert isinstance(manager, NaiveRewardManager)
    data = _data_proto(BATCH)
    outputs = [manager.loop.run_until_complete(manager.run_single(data[i : i + 1])) for i in range(len(data))]
    for output, (_, _, _, smooth, format_ok) in zip(outputs, BATCH):
        expected = float(smooth == 1.0) if strict else smooth
        assert output["reward_score"] == pytest.approx(expected)
        assert output["reward_extra_info"]["format_ok"] == format_ok
    # what verl's reward loop does next with the per-sample infos (keys of the first row, every row)
    infos = [output["reward_extra_info"] for output in outputs]
    stacked = {key: np.array([info[key] for info in infos]) for key in infos[0]}
    assert set(stacked) == set(plugin.METRIC_KEYS) and all(v.dtype == np.float64 for v in stacked.values())


@needs_verl
@quiet_ray
def test_verl_legacy_naive_manager_puts_the_reward_on_the_last_response_token():
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.workers.reward_manager.naive import NaiveRewardManager

    manager = NaiveRewardManager(CharTokenizer(), num_examine=0, compute_score=get_custom_reward_fn(_config()))
    data = _data_proto(BATCH)
    output = manager(data, return_dict=True)
    rewards = output["reward_tensor"]
    for row, (response, _, _, smooth, _) in enumerate(BATCH):
        assert rewards[row, len(response) - 1].item() == pytest.approx(smooth, abs=1e-6)
        assert rewards[row].sum().item() == pytest.approx(smooth, abs=1e-6)
    assert output["reward_extra_info"]["format_ok"] == [format_ok for *_, format_ok in BATCH]
