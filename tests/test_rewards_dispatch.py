"""The dispatch table: every data_source a dataset can hold resolves to its task's scorer."""

import ast
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import videossr
from videossr import rewards
from videossr.rewards import DATA_SOURCE_PREFIX, SCORERS, TASKS, compute, counting, data_source_for, grounding, jigsaw, scorer_for, task_for


def test_each_task_has_its_own_scorer():
    assert TASKS == ("grounding", "counting", "jigsaw")
    assert scorer_for(data_source_for("grounding")) is grounding.score
    assert scorer_for(data_source_for("counting")) is counting.score
    assert scorer_for(data_source_for("jigsaw")) is jigsaw.score
    assert sorted(SCORERS) == sorted(DATA_SOURCE_PREFIX + task for task in TASKS)
    assert [task_for(data_source_for(task)) for task in TASKS] == list(TASKS)


def test_unknown_names_fail_with_a_did_you_mean_hint():
    with pytest.raises(ValueError, match=r"no reward scorer for task 'jigsaws'; did you mean 'jigsaw'\?"):
        data_source_for("jigsaws")
    with pytest.raises(ValueError, match=r"did you mean 'videossr/counting'\?"):
        scorer_for("videossr/countng")
    with pytest.raises(ValueError, match="unknown data_source 'counting'"):
        scorer_for("counting")  # a bare task name is not a data_source
    with pytest.raises(ValueError, match="unknown data_source"):
        scorer_for(None)
    with pytest.raises(ValueError, match=r"did you mean 'strict'\?"):
        compute(data_source_for("jigsaw"), "12", "12", mode="strikt")


def test_the_dispatch_table_is_read_only():
    with pytest.raises(TypeError):
        SCORERS["videossr/new"] = grounding.score


def test_compute_selects_the_mode_and_keeps_both_rewards():
    smooth = compute(data_source_for("counting"), "3,1,5", "3,1,4")
    strict = compute(data_source_for("counting"), "3,1,5", "3,1,4", mode="strict")
    assert smooth.reward == smooth.score > 0.9 and smooth.strict == 0.0
    assert strict.reward == 0.0 and strict.score == smooth.score


@pytest.mark.parametrize("response", [None, b"3,1,4", bytearray(b"\xff3,1,4"), 314])
def test_compute_takes_non_string_outputs_without_raising(response):
    result = compute(data_source_for("counting"), response, "3,1,4")
    assert 0.0 <= result.score <= 1.0


def _string_constants(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node


def test_no_module_spells_a_data_source_by_hand():
    """Generators must call data_source_for(); a hand-written "videossr/<task>" could drift."""
    package_root = Path(videossr.__file__).parent
    owner = Path(rewards.__file__)
    spelled = re.compile(rf"{re.escape(DATA_SOURCE_PREFIX)}\w*")
    offenders = [
        f"{path.relative_to(package_root)}:{node.lineno}: {node.value!r}"
        for path in sorted(package_root.rglob("*.py"))
        if path != owner
        for node in _string_constants(path)
        if spelled.fullmatch(node.value)
    ]
    assert offenders == []


def test_every_generated_task_and_variant_resolves_and_its_answer_scores_one(sampled_clips):
    """Draw samples of every task and every variant the generators offer and score their answers."""
    from videossr.tasks import TASKS as GENERATED_TASKS
    from videossr.tasks import SampleContext, SkipSample, make_sample

    assert set(GENERATED_TASKS) <= set(TASKS), "a generated task has no reward scorer"
    bikes, donor = sampled_clips["bikes"], sampled_clips["carphone_pristine"]
    ctx = SampleContext("bikes", bikes.frames, bikes.info.sample_fps, donor_ids=("carphone_pristine",), load_frames=lambda vid: donor.frames)
    checked = 0
    for task, module in GENERATED_TASKS.items():
        for variant in module.VARIANTS:
            for index in range(2):
                try:
                    sample = make_sample(ctx, task, variant, index, seed=3)
                except SkipSample:
                    continue
                result = compute(data_source_for(sample.task), sample.answer, sample.answer, mode="strict")
                assert (result.score, result.strict, result.format_ok) == (1.0, 1.0, True), (task, variant, sample.answer)
                checked += 1
    assert checked >= sum(len(module.VARIANTS) for module in GENERATED_TASKS.values())


def test_every_row_of_a_built_dataset_resolves_and_its_truth_scores_one(built_all_tasks):
    out, _ = built_all_tasks
    rows = pq.read_table(out / "train.parquet", columns=["data_source", "reward_model", "extra_info"]).to_pylist()
    seen = set()
    for row in rows:
        truth = row["reward_model"]["ground_truth"]
        result = compute(row["data_source"], f"<answer>{truth}</answer>", truth)
        assert (result.score, result.strict, result.format_ok) == (1.0, 1.0, True), row
        assert task_for(row["data_source"]) == row["extra_info"]["task"]
        seen.add((row["extra_info"]["task"], row["extra_info"]["variant"]))
    assert {task for task, _ in seen} == set(TASKS)
