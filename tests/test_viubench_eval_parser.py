"""``videossr eval`` on a VIUBench folder reads answers like ``videossr viubench score --parser``."""

import json

import pytest

from eval_helpers import small_bench
from videossr.backends import get_backend
from videossr.cli import main
from videossr.errors import UserError
from videossr.evaluate import load_target
from videossr.evaluate.runner import run_eval
from videossr.viubench import score_predictions


def _replay(path, target):
    # every answer right but wrapped in tags: the robust reading accepts it; the paper's reads only the
    # counting answers (their three digit runs), so 2 of the 9 subsets score 100
    lines = [{"id": item.id, "response": f"<answer>{item.ground_truth}</answer>"} for item in target.items]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("parser, expected", [("paper", 200 / 9), ("robust", 100.0)])
def test_eval_on_viubench_scores_with_the_chosen_parser_like_viubench_score(tmp_path, parser, expected):
    bench = small_bench()
    target = load_target(bench, parser=parser)
    replay = _replay(tmp_path / "replay.jsonl", target)
    report = run_eval(target, get_backend("replay", path=replay, target=target), tmp_path / "out", progress=False)
    assert report["parser"] == parser and report["overall"] == pytest.approx(expected)
    assert report["unparsable"] == (7 if parser == "paper" else 0)
    theirs = score_predictions(tmp_path / "out" / "predictions.jsonl", bench, parser=parser)
    assert report["overall"] == pytest.approx(100 * theirs.overall)
    assert f"answers read by the {parser} parser" in target.format_table(report) and "chance (analytic)" in target.format_table(report)


def test_eval_parser_flag_default_rerun_and_misuse(tmp_path, capsys):
    bench = small_bench()
    replay = _replay(tmp_path / "replay.jsonl", load_target(bench))
    args = ["eval", str(bench), "--backend", "replay", "--replay-file", str(replay), "--out", str(tmp_path / "o"), "--no-progress"]
    assert main(args) == 0 and "answers read by the paper parser" in capsys.readouterr().out  # the default
    assert main(args + ["--parser", "robust"]) == 2  # the folder's predictions were scored with the paper parser
    assert "other target settings" in capsys.readouterr().err
    assert main(args[:-3] + ["--out", str(tmp_path / "r"), "--no-progress", "--parser", "robust"]) == 0
    assert "answers read by the robust parser" in capsys.readouterr().out
    with pytest.raises(UserError, match="--parser is for VIUBench folders"):
        load_target(tmp_path / "replay.jsonl", parser="paper")
