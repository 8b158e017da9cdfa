"""The lmms-eval task folder: self-contained and movable, and rendered per model class so that
lmms-eval 0.7.3's qwen3_vl and openai classes send every frame, the bench's pixel limits, our
system prompt once, the clip labels and the timestamps.

lmms-eval itself is not in the test extra (it pins av<16); the last test runs where it is
installed. Everything else checks the files and the hooks the classes call, and the
``--model_args`` split the way lmms-eval splits them (on commas, then at the first '=')."""

import dataclasses
import importlib.util
import json
import re
import shutil

import pytest
import yaml

from videossr.cli import main
from videossr.errors import UserError
from videossr.prompt_parts import timestamp_text
from videossr.viubench import SUBSETS, load_items, score_item
from videossr.viubench.baselines import baseline_responses
from videossr.viubench.bench import build_bench
from videossr.viubench.lmms_eval import EVERY_FRAME_FPS, STYLES, absolute_doc, model_args


class _TagLoader(yaml.SafeLoader):
    """Reads lmms-eval's ``!function module.name`` tags as plain strings."""


_TagLoader.add_constructor("!function", lambda loader, node: f"!function {loader.construct_scalar(node)}")


@pytest.fixture(scope="module")
def bench(tmp_path_factory, clips_dir):
    out = tmp_path_factory.mktemp("viubench-lmms") / "bench"
    build_bench(clips_dir, out, per_subset=1, seed=3, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def moved(bench, tmp_path_factory):
    """The exported folder after a move to another place (the original is gone)."""
    first = tmp_path_factory.mktemp("export") / "tasks"
    assert main(["viubench", "export-lmms-eval", "--bench", str(bench), "--out", str(first)]) == 0
    target = tmp_path_factory.mktemp("elsewhere") / "viubench-tasks"
    shutil.move(str(first), str(target))
    return target


@pytest.fixture(scope="module")
def utils(moved):
    spec = importlib.util.spec_from_file_location("viubench_lmms_utils", moved / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the generated shim, as lmms-eval imports it
    return module


def _docs(folder, subset):
    task = yaml.load((folder / f"viubench_{subset}.yaml").read_text(), Loader=_TagLoader)
    data_file = task["dataset_kwargs"]["data_files"]["test"]
    assert not data_file.startswith("/")  # lmms-eval 0.7.3 resolves it against the YAML's folder
    return [json.loads(line) for line in (folder / data_file).read_text(encoding="utf-8").splitlines()]


def _lmms_parse(model_args_text: str) -> dict:
    """lmms-eval's split of --model_args for values without quotes or braces."""
    return dict(arg.split("=", 1) for arg in model_args_text.split(","))


def test_a_moved_folder_has_relative_paths_that_resolve_inside_it(bench, moved):
    group = yaml.load((moved / "_viubench.yaml").read_text(), Loader=_TagLoader)
    assert group["task"] == [f"viubench_{s}" for s in SUBSETS] and group["aggregate_metric_list"][0]["weight_by_size"] is False
    base = yaml.load((moved / "_viubench_base.yaml").read_text(), Loader=_TagLoader)
    assert base["process_docs"] == "!function utils.process_docs" and base["generation_kwargs"]["max_new_tokens"] == 128
    assert base["lmms_eval_specific_kwargs"] == STYLES
    items = {i.id: i for i in load_items(bench)}
    for subset in SUBSETS:
        for doc in _docs(moved, subset):
            assert all(not v.startswith("/") and v.startswith("videos/") for v in doc["videos"])
            absolute = absolute_doc(doc, moved)["videos"]
            assert [p.startswith(str(moved.resolve())) for p in absolute] == [True] * len(doc["videos"])
            item = items[doc["id"]]
            assert [open(p, "rb").read() for p in absolute] == [open(p, "rb").read() for p in item.eval_files]  # the bench's own mp4s
    assert "DIR" in (moved / "README.md").read_text() and str(bench) not in (moved / "README.md").read_text()


def test_process_docs_over_a_datasets_dataset_gives_absolute_paths(moved, utils):
    datasets = pytest.importorskip("datasets")
    dataset = datasets.load_dataset("json", data_files=str(moved / "data" / "jigsaw_hard.jsonl"), split="train")
    (doc,) = utils.process_docs(dataset)
    assert len(doc["videos"]) == 8 and all(p.startswith(str(moved.resolve()) + "/videos/") for p in doc["videos"])


def test_a_doc_path_leaving_the_folder_is_refused(moved):
    (doc,) = _docs(moved, "counting_easy")
    for bad in ("/etc/passwd", "../outside.mp4", "videos/../../x.mp4"):
        with pytest.raises(UserError, match="leaves the lmms-eval task folder"):
            absolute_doc({**doc, "videos": [bad]}, moved)


def test_qwen3_vl_gets_the_clips_in_place_and_no_second_system_prompt(moved, utils):
    style = STYLES["qwen3_vl"]
    (doc,) = [absolute_doc(d, moved) for d in _docs(moved, "jigsaw_easy")]
    (user,) = utils.doc_to_messages(doc, style)  # the class prepends the system prompt from --model_args
    assert user["role"] == "user"
    content = user["content"]
    assert [p["type"] for p in content] == ["text", "video"] * 6 + ["text"]
    assert [p["text"] for p in content[0:12:2]] == ["Clip 1: "] + [f"\nClip {k}: " for k in range(2, 7)]
    assert [p["url"] for p in content if p["type"] == "video"] == doc["videos"] and content[-1]["text"].endswith(doc["question"])
    text = utils.doc_to_text(doc, style)  # --force_simple with interleave_visuals=True puts video k at <image k>
    assert re.findall(r"<image (\d+)>", text) == [str(k) for k in range(1, 7)] and text.startswith("Clip 1: <image 1>\nClip 2: <image 2>")
    (single,) = _docs(moved, "grounding_mirror")
    assert utils.doc_to_text(single, style) == "<image 1>\n" + single["question"]


def test_qwen3_vl_model_args_keep_every_frame_the_pixel_limits_and_our_prompt(bench):
    items = load_items(bench)
    args = _lmms_parse(model_args(items)["qwen3_vl"])
    assert args["system_prompt"] == items[0].system_prompt  # exactly, after lmms-eval's comma split
    assert int(args["max_num_frames"]) == 48 == max(len(c) for i in items for c in i.clips)
    assert int(args["fps"]) == EVERY_FRAME_FPS > max(i.sample_fps for i in items)  # qwen-vl-utils keeps min(frames, max_frames)
    assert (int(args["min_pixels"]), int(args["max_pixels"])) == (items[0].min_pixels, items[0].max_pixels) == (16384, 512 * 512)
    assert _lmms_parse(model_args(items)["qwen3_vl --force_simple"])["interleave_visuals"] == "True"
    with pytest.raises(UserError, match="comma"):
        model_args([dataclasses.replace(items[0], system_prompt="Be brief, please.")])


def test_openai_gets_every_frame_as_an_image_after_its_timestamp_and_our_system_prompt(moved, utils):
    style = STYLES["openai"]
    for subset, clips in (("grounding_zoom_out", 1), ("jigsaw_hard", 8)):
        (doc,) = [absolute_doc(d, moved) for d in _docs(moved, subset)]
        system, user = utils.doc_to_messages(doc, style)
        assert system == {"role": "system", "content": [{"type": "text", "text": doc["system_prompt"]}]}
        content = user["content"]
        images = [p for p in content if p["type"] == "image"]
        assert len(images) == sum(doc["frame_counts"]) == 48 and not any(p["type"] == "video" for p in content)
        per_clip = doc["frame_counts"][0]
        stamps = [content[k - 1]["text"] for k, p in enumerate(content) if p["type"] == "image"]
        assert stamps == [timestamp_text(i / doc["sample_fps"]) for _ in range(clips) for i in range(per_clip)]
        assert all(img["url"].width * img["url"].height <= doc["max_pixels"] for img in images)
        if clips > 1:
            labels = [p["text"] for p in content if p["type"] == "text" and re.fullmatch(r"\n?Clip \d+: ", p["text"])]
            assert labels == ["Clip 1: "] + [f"\nClip {k}: " for k in range(2, 9)]


def test_hooks_score_like_videossr(bench, moved, utils):
    items = load_items(bench)
    guesses = baseline_responses("random", items, seed=5)
    docs = [d for s in SUBSETS for d in _docs(moved, s)]
    for doc, item in zip(docs, items):
        assert doc["id"] == item.id
        assert utils.process_results(doc, [guesses[item.id]]) == {"viubench": score_item(item, guesses[item.id])}
        assert utils.process_results(doc, [item.answer]) == {"viubench": 1.0}
        assert utils.doc_to_target(doc) == item.answer
    with pytest.raises(UserError, match="viubench-9"):
        utils.process_results({**docs[0], "viubench_version": "viubench-9"}, ["1,1,1"])


def test_lmms_eval_own_task_loader_reads_the_moved_folder(moved):
    # lmms-eval is not in the test extra (it pins av<16 and wandb==0.25); run where it is installed
    tasks = pytest.importorskip("lmms_eval.tasks")
    manager = tasks.TaskManager(include_path=str(moved), model_name="qwen3_vl")
    (subtasks,) = tasks.get_task_dict(["viubench"], manager, "chat").values()
    assert sorted(subtasks) == sorted(f"viubench_{s}" for s in SUBSETS)
    for task in subtasks.values():
        (doc,) = list(task.test_docs())
        assert all(p.startswith(str(moved.resolve())) for p in doc["videos"])
        assert task.process_results(doc, [doc["answer"]]) == {"viubench": 1.0}
        assert task.doc_to_messages(doc)[0]["role"] == "user"  # qwen3_vl adds the system prompt itself
