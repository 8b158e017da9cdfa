"""``videossr score``'s library: predictions JSONL against a dataset parquet, means per task and variant."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from videossr.rewards import data_source_for
from videossr.score import ALL, format_report, score_predictions

ROWS = [  # (sample_id, task, variant, ground truth)
    ("g0", "grounding", "channel_swap", "10.0-20.0"),
    ("g1", "grounding", "channel_swap", "0.0-5.0"),
    ("g2", "grounding", "mirror", "1.0-2.0"),
    ("c0", "counting", "easy", "3,1,4"),
    ("j0", "jigsaw", "easy", "315264"),
    ("j1", "jigsaw", "easy", "123456"),
]


def _write_dataset(path, rows=ROWS):
    table = pa.Table.from_pylist([
        {
            "data_source": data_source_for(task),
            "reward_model": {"style": "rule", "ground_truth": truth},
            "extra_info": {"index": i, "sample_id": sample_id, "task": task, "variant": variant},
        }
        for i, (sample_id, task, variant, truth) in enumerate(rows)
    ])
    pq.write_table(table, path)
    return path


def _write_predictions(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _group(report, task, variant):
    (group,) = [g for g in report.groups if (g.task, g.variant) == (task, variant)]
    return group


@pytest.fixture
def dataset(tmp_path):
    return _write_dataset(tmp_path / "data.parquet")


def test_means_per_task_and_variant_with_missing_and_unmatched(tmp_path, dataset):
    predictions = _write_predictions(tmp_path / "p.jsonl", [
        {"sample_id": "g0", "response": "<answer>12.5-20</answer>"},  # IoU 0.75
        {"sample_id": "g1", "response": "0-5"},  # exact
        {"sample_id": "g1", "response": "no idea"},  # a second response for g1: format failure
        {"sample_id": "c0", "response": "circles: 3, squares: 1, triangles: 4"},
        {"sample_id": "j0", "response": "315264"},
        {"sample_id": "zz", "response": "1"},  # not in the dataset
        # g2 and j1 have no prediction
    ])
    report = score_predictions(predictions, dataset)
    swap = _group(report, "grounding", "channel_swap")
    assert (swap.samples, swap.predictions, swap.missing) == (2, 3, 0)
    assert swap.smooth == pytest.approx((0.75 + 1 + 0) / 3)
    assert swap.strict == pytest.approx(1 / 3)
    assert swap.format_failure_rate == pytest.approx(1 / 3)
    mirror = _group(report, "grounding", "mirror")
    assert (mirror.samples, mirror.predictions, mirror.missing, mirror.smooth, mirror.format_failure_rate) == (1, 0, 1, 0.0, 1.0)
    grounding_all = _group(report, "grounding", ALL)
    assert (grounding_all.samples, grounding_all.predictions, grounding_all.missing) == (3, 3, 1)
    assert grounding_all.smooth == pytest.approx(1.75 / 4)
    jigsaw = _group(report, "jigsaw", "easy")
    assert (jigsaw.smooth, jigsaw.strict, jigsaw.missing, jigsaw.format_failure_rate) == (0.5, 0.5, 1, 0.5)
    overall = report.overall
    assert (overall.task, overall.variant, overall.samples, overall.predictions, overall.missing) == (ALL, ALL, 6, 5, 2)
    assert overall.smooth == pytest.approx((0.75 + 1 + 0 + 1 + 1) / 7)
    assert report.unmatched_predictions == 1
    assert [(g.task, g.variant) for g in report.groups] == [
        ("grounding", "channel_swap"), ("grounding", "mirror"), ("grounding", ALL),
        ("counting", "easy"), ("counting", ALL), ("jigsaw", "easy"), ("jigsaw", ALL), (ALL, ALL),
    ]


def test_predictions_keyed_by_index(tmp_path, dataset):
    predictions = _write_predictions(tmp_path / "p.jsonl", [{"index": i, "response": truth} for i, (*_, truth) in enumerate(ROWS)])
    report = score_predictions(predictions, dataset)
    assert (report.overall.smooth, report.overall.strict, report.overall.format_failure_rate) == (1.0, 1.0, 0.0)


def test_report_text_lists_every_group_and_warns_about_unmatched(tmp_path, dataset):
    predictions = _write_predictions(tmp_path / "p.jsonl", [{"sample_id": "c0", "response": "3,1,5"}, {"sample_id": "nope", "response": ""}])
    text = format_report(score_predictions(predictions, dataset))
    lines = text.splitlines()
    assert lines[0].split() == ["task", "variant", "samples", "scored", "missing", "smooth", "strict", "format_fail"]
    counting_row = next(line for line in lines if line.startswith("counting") and "easy" in line)
    assert counting_row.split() == ["counting", "easy", "1", "1", "0", "0.917", "0.000", "0.0%"]
    assert any(line.split()[:2] == ["jigsaw", "easy"] and line.endswith("100.0%") for line in lines)
    assert "1 prediction(s) matched no dataset sample" in lines[-1]


def test_report_serialises_to_json(tmp_path, dataset):
    predictions = _write_predictions(tmp_path / "p.jsonl", [{"sample_id": "c0", "response": "3,1,4"}])
    as_dict = json.loads(json.dumps(score_predictions(predictions, dataset).to_dict()))
    assert as_dict["groups"][-1]["task"] == ALL and as_dict["unmatched_predictions"] == 0


def test_bad_inputs_fail_with_the_file_and_line(tmp_path, dataset):
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"sample_id": "c0", "response": "1"}\n{oops\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not JSON"):
        score_predictions(bad_json, dataset)
    no_key = _write_predictions(tmp_path / "nokey.jsonl", [{"response": "1"}])
    with pytest.raises(ValueError, match=r"nokey.jsonl:1: need an object with 'sample_id'"):
        score_predictions(no_key, dataset)
    with pytest.raises(FileNotFoundError):
        score_predictions(no_key, tmp_path / "missing.parquet")


def test_duplicate_sample_ids_in_the_dataset_are_refused(tmp_path):
    dataset = _write_dataset(tmp_path / "dup.parquet", [ROWS[0], ROWS[0]])
    predictions = _write_predictions(tmp_path / "p.jsonl", [{"sample_id": "g0", "response": "10-20"}])
    with pytest.raises(ValueError, match="sample_id 'g0' is not unique"):
        score_predictions(predictions, dataset)


def test_perfect_predictions_on_a_built_dataset_score_one_everywhere(tmp_path, built_all_tasks):
    out, _ = built_all_tasks
    rows = pq.read_table(out / "train.parquet", columns=["reward_model", "extra_info"]).to_pylist()
    predictions = _write_predictions(tmp_path / "p.jsonl", [
        {"sample_id": row["extra_info"]["sample_id"], "response": f"<answer>{row['reward_model']['ground_truth']}</answer>"} for row in rows
    ])
    report = score_predictions(predictions, out)  # the dataset folder: its train.parquet is read
    variants = {(row["extra_info"]["task"], row["extra_info"]["variant"]) for row in rows}
    assert {(g.task, g.variant) for g in report.groups if g.variant != ALL} == variants
    assert all((g.smooth, g.strict, g.format_failure_rate, g.missing) == (1.0, 1.0, 0.0, 0) for g in report.groups)
    assert report.overall.samples == len(rows)


def test_score_cli_prints_the_table_and_exit_codes(tmp_path, built_all_tasks, capsys):
    import pyarrow.parquet as pq

    from videossr.cli import main

    out, _ = built_all_tasks
    rows = pq.read_table(out / "train.parquet").to_pylist()
    preds = tmp_path / "preds.jsonl"
    with preds.open("w") as fh:
        for i, r in enumerate(rows):
            answer = r["reward_model"]["ground_truth"] if i % 2 == 0 else "I cannot tell."
            fh.write(json.dumps({"sample_id": r["extra_info"]["sample_id"], "response": f"<answer>{answer}</answer>"}) + "\n")
    assert main(["score", str(preds), "--dataset", str(out), "--json", str(tmp_path / "r.json")]) == 0
    text = capsys.readouterr().out
    for task in ("grounding", "counting", "jigsaw"):
        assert task in text
    report = json.loads((tmp_path / "r.json").read_text())
    overall = [g for g in report["groups"] if g["task"] == ALL and g["variant"] == ALL][0]
    assert overall["samples"] == overall["predictions"] == len(rows)
    assert overall["strict"] == pytest.approx(len(range(0, len(rows), 2)) / len(rows))
    assert overall["format_failure_rate"] == pytest.approx(1 - overall["strict"])  # "I cannot tell." has no answer
    (tmp_path / "none.jsonl").write_text(json.dumps({"sample_id": "nope", "response": "1"}) + "\n")
    assert main(["score", str(tmp_path / "none.jsonl"), "--dataset", str(out)]) == 1
    assert main(["score", str(preds), "--dataset", str(tmp_path / "missing")]) == 2
