"""Sampling control and model identity with the real tiny Qwen3-VL (transformers backend): a
checkpoint whose generation_config says greedy cannot turn temperature 1.0 greedy; samples do not
depend on the batch; a model retrained into the same folder is asked again."""

from __future__ import annotations

import json
import shutil

import pytest
from eval_helpers import small_bench
from tiny_qwen import save_tiny_checkpoint, tiny_checkpoint_dir

from videossr.backends import get_backend
from videossr.backends.identity import checkpoint_digest
from videossr.cli import main
from videossr.evaluate import load_target

SMALL_PIXELS = 128 * 128


@pytest.fixture(scope="module")
def greedy_config_checkpoint(tmp_path_factory):
    """The tiny checkpoint with a Qwen2.5-VL-style generation_config: do_sample false, top_k 1."""
    folder = tmp_path_factory.mktemp("greedy-config") / "ckpt"
    shutil.copytree(tiny_checkpoint_dir(), folder)
    config = json.loads((folder / "generation_config.json").read_text())
    config.update(do_sample=False, top_k=1, top_p=0.001, temperature=0.1, repetition_penalty=1.05)
    (folder / "generation_config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def requests():
    target = load_target(small_bench(), limit=3)
    from dataclasses import replace

    return [replace(item.request, id=item.id) for item in target.items]


def _backend(path, batch_size):
    return get_backend("transformers", model=str(path), batch_size=batch_size, max_pixels=SMALL_PIXELS, device="cpu", dtype="float32")


def test_temperature_samples_whatever_the_generation_config_says(greedy_config_checkpoint, requests):
    backend = _backend(greedy_config_checkpoint, 3)
    sampled = backend.generate(requests, n=4, temperature=1.0, max_tokens=6, seed=3)
    assert all(g.ok and len(g.texts) == 4 for g in sampled)
    assert all(len(set(g.texts)) > 1 for g in sampled)  # k different texts, not k greedy copies
    top1 = backend.generate(requests, n=4, temperature=1.0, max_tokens=6, seed=3, top_k=1)  # asked for: then it is greedy
    greedy = backend.generate(requests, max_tokens=6)  # repetition_penalty 1.0 unless asked: not the checkpoint's 1.05
    assert [g.texts for g in top1] == [g.texts * 4 for g in greedy]


def test_samples_do_not_depend_on_the_batch(requests):
    one = _backend(tiny_checkpoint_dir(), 1).generate(requests, n=2, temperature=1.0, max_tokens=6, seed=11)
    three = _backend(tiny_checkpoint_dir(), 3).generate(list(reversed(requests)), n=2, temperature=1.0, max_tokens=6, seed=11)
    assert [g.texts for g in one] == [g.texts for g in reversed(three)]
    other_seed = _backend(tiny_checkpoint_dir(), 3).generate(requests, n=2, temperature=1.0, max_tokens=6, seed=12)
    assert [g.texts for g in other_seed] != [g.texts for g in one]


def test_checkpoint_digest_reads_content_not_paths(tmp_path):
    first = save_tiny_checkpoint(tmp_path / "a", seed=0)
    copy = shutil.copytree(first, tmp_path / "b")
    assert checkpoint_digest(first) == checkpoint_digest(copy)
    save_tiny_checkpoint(tmp_path / "b", seed=1)  # retrained in place: same shapes, same sizes, other weights
    assert sorted(p.stat().st_size for p in first.iterdir()) == sorted(p.stat().st_size for p in copy.iterdir())
    assert checkpoint_digest(first) != checkpoint_digest(copy)


def test_a_model_retrained_into_the_same_folder_is_asked_again(tmp_path, capsys):
    model = save_tiny_checkpoint(tmp_path / "model", seed=0)
    shared = tmp_path / "shared.sqlite"

    def run(out, *extra):
        args = ["eval", str(small_bench()), "--backend", "transformers", "--model", str(model), "--device", "cpu", "--max-pixels", str(SMALL_PIXELS),
                "--max-tokens", "4", "--limit", "2", "--cache", str(shared), "--out", str(tmp_path / out), "--no-progress", *extra]
        code = main(args)
        return code, capsys.readouterr()

    code, first = run("o1")
    assert code == 0 and "(2 asked the backend)" in first.out
    code, again = run("o2")  # same weights, a new --out on the shared cache: answered from the cache
    assert code == 0 and "(0 asked the backend)" in again.out
    save_tiny_checkpoint(model, seed=1)  # the README loop: train, save into the same folder, evaluate again
    code, new_out = run("o3")
    assert code == 0 and "(2 asked the backend)" in new_out.out
    code, refused = run("o1")  # resume in the old --out: the model changed, so its predictions are not this model's
    assert code == 2 and "other backend settings" in refused.err
    code, overwritten = run("o1", "--overwrite")  # the shared cache now holds the new model's answers (asked in o3)
    assert code == 0 and "(0 asked the backend)" in overwritten.out
    outputs = [[json.loads(line)["outputs"] for line in (tmp_path / out / "predictions.jsonl").read_text().splitlines()] for out in ("o1", "o3")]
    assert outputs[0] == outputs[1]
    args = ["eval", str(small_bench()), "--backend", "transformers", "--model", str(model), "--device", "cpu", "--max-pixels", str(SMALL_PIXELS),
            "--max-tokens", "4", "--limit", "2", "--out", str(tmp_path / "own"), "--no-progress"]
    assert main(args) == 0 and main(args + ["--overwrite"]) == 0  # --overwrite starts OUT's own cache afresh
    assert "(2 asked the backend)" in capsys.readouterr().out.split("predictions:")[-2]
    run_json = json.loads((tmp_path / "o1" / "run.json").read_text())
    assert run_json["backend"]["content"] == checkpoint_digest(model)
    assert run_json["sampling"] == {"n": 1, "temperature": 0.0, "do_sample": False, "max_tokens": 4, "seed": 0, "top_p": 1.0, "top_k": None,
                                    "repetition_penalty": 1.0}


def test_system_prompt_chat_template_kwargs_and_logged_prompts(tmp_path, capsys):
    # a Qwen3-style template switch: an empty think block when enable_thinking is false
    model = shutil.copytree(tiny_checkpoint_dir(), tmp_path / "model")
    template = model / "chat_template.jinja"
    template.write_text(template.read_text() + "{%- if add_generation_prompt and enable_thinking is defined and enable_thinking is false %}"
                        "{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}")
    system = tmp_path / "system.txt"
    system.write_text("You are a terse judge of videos.\n")
    args = ["eval", str(small_bench()), "--backend", "transformers", "--model", str(model), "--device", "cpu", "--max-pixels", str(SMALL_PIXELS),
            "--max-tokens", "2", "--limit", "2", "--system-prompt", str(system), "--chat-template-kwargs", '{"enable_thinking": false}', "--log-prompts",
            "--out", str(tmp_path / "o"), "--no-progress"]
    assert main(args) == 0
    rows = [json.loads(line) for line in (tmp_path / "o" / "predictions.jsonl").read_text().splitlines()]
    target = load_target(small_bench(), limit=2)
    for row, item in zip(rows, target.items):
        assert row["prompt"].startswith("<|im_start|>system\nYou are a terse judge of videos.<|im_end|>")
        assert row["prompt"].endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
        assert item.request.parts[-1].strip()[-40:] in row["prompt"]  # the item's own question follows
    run_json = json.loads((tmp_path / "o" / "run.json").read_text())
    assert run_json["backend"]["chat_template_kwargs"] == {"enable_thinking": False}
    assert run_json["target"]["system_prompt"] == "You are a terse judge of videos."
    plain = get_backend("transformers", model=str(model), max_pixels=SMALL_PIXELS, device="cpu", dtype="float32")
    assert not plain.prompt(target.items[0].request).endswith("</think>\n\n")
