"""Our parquet through verl 0.9.1's own data path, with a tiny offline Qwen3-VL (CPU only).

The chain replicated here is what a verl GRPO run does with one row (verl 0.9.1 sources):

1. ``verl.utils.tokenizer.hf_tokenizer`` / ``hf_processor`` load tokenizer and processor from the
   model folder; ``hf_processor`` also binds ``Qwen3VLModel.get_rope_index`` to the processor.
2. ``verl.utils.dataset.rl_dataset.RLHFDataset`` reads the parquet with ``datasets``, drops rows
   in ``maybe_filter_out_long_prompts`` (any exception there counts as "too long": silent drop),
   and ``__getitem__`` turns each ``<video>`` of the prompt into a
   ``{"type": "video", **videos[k]}`` content part (``_build_messages``) -> ``raw_prompt``.
3. Rollout (``verl.experimental.agent_loop.single_turn_agent_loop.SingleTurnAgentLoop.run``):
   ``AgentLoopBase.process_multi_modal_info`` awaits
   ``RLHFDataset.process_multi_modal_info(messages, image_patch_size=processor.image_processor.patch_size)``,
   which calls ``qwen_vl_utils.process_vision_info(messages, image_patch_size=..., return_video_metadata=True)``
   (frame lists: ``qwen_vl_utils.vision_process.fetch_video`` -> per-frame ``fetch_image``, pad to
   an even count, metadata ``fps = sample_fps``); then the Continuous Token builder
   (``verl.utils.tokenizer.continuous_token_wiring.create_continuous_token_builder`` ->
   ``QwenVLContinuousTokenBuilder.build_initial_tokens`` -> ``render_tokens_with_mm``) renders the
   processor's chat template and calls ``verl.utils.tokenizer.build_multimodal_processor_inputs``,
   i.e. ``processor(text=[...], videos=[...], video_metadata=[...], do_sample_frames=False)``.
4. Training side (``AgentLoopWorker._compute_multi_modal_inputs`` / ``_compute_position_ids`` in
   ``verl/experimental/agent_loop/agent_loop.py``): collapse repeated placeholder ids, decode,
   re-run the processor on the same videos, then M-RoPE positions via the bound
   ``processor.get_rope_index``. That module cannot be imported on a CPU-only base install (it
   pulls the rollout server stack: ``cachetools``, ``uvicorn``, ...), so :func:`_training_inputs`
   replicates those two methods line for line.

Steps 1-3 use verl's and qwen-vl-utils' own functions. Needs the train extras (torch,
torchvision, transformers, verl, qwen-vl-utils); skipped where they are absent.
"""

from __future__ import annotations

import asyncio
import math
import os
import re

import pytest

pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("transformers")
pytest.importorskip("datasets")
pytest.importorskip("verl")
pytest.importorskip("qwen_vl_utils")

import torch  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from tiny_qwen import MERGE_SIZE, PATCH_SIZE, TEMPORAL_PATCH_SIZE, build_tiny_model, save_tiny_checkpoint  # noqa: E402

VERL_COLUMNS = {"data_source", "prompt", "videos", "ability", "reward_model", "extra_info"}
VIDEO_KEYS = {"video", "sample_fps", "max_pixels", "min_pixels"}
TIMESTAMP = re.compile(r"<(\d+\.\d) seconds>")
NO_LENGTH_LIMIT = 10**7  # so that any row RLHFDataset drops was dropped by an error, not by length

# transformers 5.10's processor calls np.array(list_of_str, copy=False) once per call (harmless)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def _datasets_cache(tmp_path_factory):
    """Keep ``datasets``' cache (RLHFDataset calls load_dataset without cache_dir) out of ~/.cache."""
    import datasets

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path_factory.mktemp("hf-datasets")))
        yield


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory, clips_dir):
    """``videossr build CLIPS --recipe videossr30k`` (40 rows: grounding, jigsaw, counting)."""
    from videossr.build import build
    from videossr.recipe import load_recipe

    out = tmp_path_factory.mktemp("videossr30k")
    build(clips_dir, out, load_recipe("videossr30k"), workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def rows(dataset_dir):
    from videossr.export import load_rows

    rows = load_rows(dataset_dir)
    assert rows, "the build wrote no rows"
    return rows


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny-qwen3vl"))


@pytest.fixture(scope="module")
def tokenizer(checkpoint):
    from verl.utils.tokenizer import hf_tokenizer

    return hf_tokenizer(str(checkpoint))


@pytest.fixture(scope="module")
def processor(checkpoint):
    from verl.utils.tokenizer import hf_processor

    processor = hf_processor(str(checkpoint))
    assert processor is not None, "verl's hf_processor failed to load the tiny processor (it warns and returns None)"
    return processor


@pytest.fixture(scope="module")
def data_config(tmp_path_factory):
    """The ``data`` keys RLHFDataset reads (verl's trainer passes ``config.data``)."""
    return OmegaConf.create({
        "prompt_key": "prompt", "image_key": "images", "video_key": "videos",
        "max_prompt_length": NO_LENGTH_LIMIT, "filter_overlong_prompts": True, "filter_overlong_prompts_workers": 1,
        "truncation": "error", "image_patch_size": PATCH_SIZE,
        "cache_dir": str(tmp_path_factory.mktemp("verl-cache")),
    })


_FILTERED_LENGTH = """
import sys
from omegaconf import OmegaConf
from verl.utils.dataset.rl_dataset import RLHFDataset
from verl.utils.tokenizer import hf_processor, hf_tokenizer
checkpoint, parquet, config = sys.argv[1:4]
dataset = RLHFDataset(parquet, hf_tokenizer(checkpoint), OmegaConf.load(config), processor=hf_processor(checkpoint))
print("ROWS", len(dataset))
"""


@pytest.fixture(scope="module")
def verl_filtered_length(dataset_dir, checkpoint, data_config, tmp_path_factory):
    """len(RLHFDataset) as the trainer builds it: the prompt-length filter runs every row's videos
    through qwen-vl-utils and the processor (slow: decodes every frame). It runs in a fresh process,
    as in verl's trainer: ``datasets`` forks workers for the filter, and a fork of a process that
    has already run torch (other tests in this session) can kill the worker."""
    import subprocess
    import sys

    config = tmp_path_factory.mktemp("verl-config") / "data.yaml"
    OmegaConf.save(data_config, config)
    env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path_factory.mktemp("hf-datasets-fresh"))}
    done = subprocess.run([sys.executable, "-c", _FILTERED_LENGTH, str(checkpoint), str(dataset_dir / "train.parquet"), str(config)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return int(next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("ROWS ")))


@pytest.fixture(scope="module")
def verl_items(dataset_dir, tokenizer, processor, data_config):
    """RLHFDataset without the length filter (cheap): the same ``__getitem__`` items."""
    from verl.utils.dataset.rl_dataset import RLHFDataset

    config = OmegaConf.merge(data_config, {"filter_overlong_prompts": False})
    return RLHFDataset(str(dataset_dir / "train.parquet"), tokenizer, config, processor=processor)


def _rollout(messages, processor, tokenizer, data_config) -> dict:
    """Step 3 of the module docstring for one ``raw_prompt``: what the rollout feeds the engine."""
    from verl.utils.dataset.rl_dataset import RLHFDataset
    from verl.utils.tokenizer.continuous_token_wiring import create_continuous_token_builder

    patch_size = getattr(getattr(processor, "image_processor", None), "patch_size", 14)  # AgentLoopBase's choice
    images, videos, audios = asyncio.run(
        RLHFDataset.process_multi_modal_info(messages, image_patch_size=patch_size, config=data_config)
    )
    builder = create_continuous_token_builder(
        tokenizer, hf_model_type=processor.config.model_type, processor=processor,
        chat_template_kwargs={}, mm_processor_kwargs={},
    )
    mm_inputs: dict = {}
    prompt_ids = builder.build_initial_tokens(messages, images=images, videos=videos, audios=audios, mm_inputs_out=mm_inputs)
    return {"images": images, "videos": videos, "audios": audios, "prompt_ids": prompt_ids, "mm_inputs": mm_inputs, "builder": type(builder).__name__}


@pytest.fixture(scope="module")
def rollouts(verl_items, rows, processor, tokenizer, data_config):
    """Every row through RLHFDataset.__getitem__ and the rollout's vision path: [(row, rollout)]."""
    assert len(verl_items) == len(rows)
    out = []
    for i in range(len(verl_items)):
        item = verl_items[i]
        assert item["index"] == rows[i]["extra_info"]["index"] == i
        out.append((rows[i], _rollout(item["raw_prompt"], processor, tokenizer, data_config)))
    return out


def _training_inputs(processor, tokenizer, input_ids, videos):
    """``AgentLoopWorker._compute_multi_modal_inputs`` + ``_compute_position_ids`` (verl 0.9.1), replicated.

    Returns (multi_modal_inputs, position_ids of shape (1, 4, L): text positions + 3 M-RoPE rows).
    """
    from verl.utils.tokenizer import build_multimodal_processor_inputs, get_processor_token_id

    image_token_id = get_processor_token_id(processor, "image")
    video_token_id = get_processor_token_id(processor, "video")
    collapse_ids = {t for t in (image_token_id, video_token_id) if t is not None}
    collapsed_ids, prev_id = [], None
    for token_id in input_ids.squeeze(0).tolist():
        if token_id in collapse_ids and token_id == prev_id:
            continue
        collapsed_ids.append(token_id)
        prev_id = token_id
    current_text = tokenizer.decode(collapsed_ids, skip_special_tokens=True)
    mm = build_multimodal_processor_inputs(processor, text=[current_text], images=None, videos=videos, audio=None, mm_processor_kwargs={})
    mm.pop("input_ids", None)
    mm.pop("attention_mask", None)
    mm = dict(mm.convert_to_tensors("pt"))

    attention_mask = torch.ones_like(input_ids)
    kwargs = {"image_grid_thw": mm.get("image_grid_thw"), "video_grid_thw": mm.get("video_grid_thw")}
    if mm.pop("mm_token_type_ids", None) is not None:
        mm_token_type_ids = torch.zeros_like(input_ids)
        mm_token_type_ids[0][input_ids[0] == image_token_id] = 1
        mm_token_type_ids[0][input_ids[0] == video_token_id] = 2
        kwargs["mm_token_type_ids"] = mm_token_type_ids
    vision_position_ids, _ = processor.get_rope_index(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
    vision_position_ids = vision_position_ids.transpose(0, 1)  # (3, 1, L) -> (1, 3, L)
    text_position_ids = torch.arange(input_ids.shape[1]).view(1, 1, -1)
    return mm, torch.cat((text_position_ids, vision_position_ids), dim=1)


def _none_paths(value, path="row"):
    if value is None:
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _none_paths(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _none_paths(v, f"{path}[{i}]")


# ----------------------------------------------------------------------------- the parquet as verl reads it


def test_parquet_loads_with_datasets(dataset_dir, rows, tmp_path):
    import datasets

    loaded = datasets.load_dataset("parquet", data_files=str(dataset_dir / "train.parquet"), cache_dir=str(tmp_path))["train"]
    assert len(loaded) == len(rows)
    assert set(loaded.column_names) == VERL_COLUMNS
    as_rows = loaded.to_list()
    assert as_rows == rows  # datasets neither drops, adds nor None-fills anything
    first_keys = {k: set(v) if isinstance(v, dict) else None for k, v in as_rows[0].items()}
    for row in as_rows:
        sid = row["extra_info"]["sample_id"]
        assert {k: set(v) if isinstance(v, dict) else None for k, v in row.items()} == first_keys, sid
        assert not list(_none_paths(row)), (sid, list(_none_paths(row)))
        assert [m["role"] for m in row["prompt"]] == ["system", "user"], sid
        assert all(isinstance(m["content"], str) for m in row["prompt"]), sid
        n_placeholders = sum(m["content"].count("<video>") for m in row["prompt"])
        assert n_placeholders == len(row["videos"]) >= 1, sid
        assert "<image>" not in "".join(m["content"] for m in row["prompt"]), sid
        for entry in row["videos"]:
            assert set(entry) == VIDEO_KEYS, sid
            assert isinstance(entry["video"], list) and len(entry["video"]) >= 2, sid
            assert all(isinstance(p, str) and p.startswith("/") for p in entry["video"]), sid
            assert entry["sample_fps"] > 0 and 0 < entry["min_pixels"] <= entry["max_pixels"], sid
        assert row["reward_model"]["style"] == "rule" and row["reward_model"]["ground_truth"], sid
        assert {"index", "split"} <= set(row["extra_info"]), sid
    assert sorted(r["extra_info"]["index"] for r in as_rows) == list(range(len(as_rows)))
    frame = as_rows[0]["videos"][0]["video"][0]
    assert (dataset_dir / "store").resolve().as_posix() in frame or (dataset_dir / "samples").resolve().as_posix() in frame
    assert all(os.path.isfile(p) for r in as_rows for v in r["videos"] for p in v["video"])
    # both shapes of row are present: one video (grounding, counting) and several clips (jigsaw)
    assert {len(r["videos"]) == 1 for r in as_rows} == {True, False}


@pytest.mark.slow
def test_rlhf_dataset_keeps_and_yields_every_row(verl_filtered_length, verl_items, rows):
    """RLHFDataset on CPU: its length filter runs our videos through the processor; none may fail."""
    from verl.utils.dataset.rl_dataset import collate_fn

    # max_prompt_length is effectively unlimited, so a dropped row means doc2len raised (silently)
    assert verl_filtered_length == len(rows), "verl's prompt-length filter dropped rows: an exception in doc2len"
    for i in range(len(verl_items)):
        item = verl_items[i]
        row = rows[i]
        assert item["index"] == row["extra_info"]["index"] == i
        assert item["data_source"] == row["data_source"]
        assert item["reward_model"] == row["reward_model"]
        user = item["raw_prompt"][1]
        parts = [p for p in user["content"] if p["type"] == "video"]
        assert len(parts) == len(row["videos"])
        for part, entry in zip(parts, row["videos"]):
            assert {k: v for k, v in part.items() if k != "type"} == entry
        text = "".join(p["text"] for p in user["content"] if p["type"] == "text")
        assert row["extra_info"]["question"] in text
        assert "videos" not in item and "dummy_tensor" in item
    batch = collate_fn([verl_items[i] for i in range(4)])
    assert batch["dummy_tensor"].shape == (4, 1)
    assert list(batch["index"]) == [0, 1, 2, 3]


# ----------------------------------------------------------------------------- the rollout's vision path


@pytest.mark.slow
def test_rollout_video_processing_every_row(rollouts, processor, tokenizer):
    """Frames, time axis, pixel budget and placeholder layout survive verl's rollout path."""
    video_token_id = processor.video_token_id
    patch_dim = 3 * TEMPORAL_PATCH_SIZE * PATCH_SIZE * PATCH_SIZE
    clip_counts = set()
    for row, out in rollouts:
        sid = row["extra_info"]["sample_id"]
        entries = row["videos"]
        clip_counts.add(len(entries))
        assert out["builder"] == "QwenVLContinuousTokenBuilder", sid
        assert out["images"] is None and out["audios"] is None, sid
        videos, mm = out["videos"], out["mm_inputs"]
        assert len(videos) == len(entries), sid
        grid = mm["video_grid_thw"]
        assert grid.shape == (len(entries), 3), sid

        expected_stamps = []
        for k, ((frames, meta), entry, thw) in enumerate(zip(videos, entries, grid.tolist())):
            n = len(entry["video"])
            padded = n + n % TEMPORAL_PATCH_SIZE
            t, c, h, w = frames.shape
            assert (t, c) == (padded, 3), (sid, k, frames.shape)
            assert h % (PATCH_SIZE * MERGE_SIZE) == 0 and w % (PATCH_SIZE * MERGE_SIZE) == 0, (sid, k, h, w)
            assert entry["min_pixels"] <= h * w <= entry["max_pixels"], (sid, k, h, w)
            # qwen-vl-utils' frame-list metadata: the row's sample_fps is the time axis
            assert meta["fps"] == entry["sample_fps"], (sid, k)
            assert list(meta["frames_indices"]) == list(range(padded)), (sid, k)
            assert round(meta["total_num_frames"]) == padded, (sid, k)
            # the processor re-resizes nothing (Qwen3-VL's video budget is far above ours)
            assert thw == [padded // TEMPORAL_PATCH_SIZE, h // PATCH_SIZE, w // PATCH_SIZE], (sid, k, thw)
            fps = entry["sample_fps"]
            expected_stamps += [f"{(2 * j + 2 * j + 1) / 2 / fps:.1f}" for j in range(padded // 2)]

        assert mm["pixel_values_videos"].shape == (int(grid.prod(dim=1).sum()), patch_dim), sid
        ids = out["prompt_ids"]
        n_video_tokens = int(grid.prod(dim=1).sum()) // MERGE_SIZE**2
        assert ids.count(video_token_id) == n_video_tokens, sid
        assert int((mm["mm_token_type_ids"] == 2).sum()) == n_video_tokens, sid
        assert TIMESTAMP.findall(tokenizer.decode(ids)) == expected_stamps, sid
        assert ids.count(processor.vision_start_token_id) == ids.count(processor.vision_end_token_id), sid

        if row["extra_info"]["task"] == "grounding":
            # the answer is on the same time axis: kept frame i at i / sample_fps
            start, end = map(float, row["reward_model"]["ground_truth"].split("-"))
            duration = len(entries[0]["video"]) / entries[0]["sample_fps"]
            assert 0 <= start < end <= duration + 0.05, sid
    assert 1 in clip_counts and max(clip_counts) > 1, clip_counts


def test_odd_frame_count_is_padded_by_repeating_the_last_frame(verl_items, rows, processor, tokenizer, data_config):
    """An odd clip length (possible with other recipes) reaches the model as T = ceil(n / 2)."""
    row = next(r for r in rows if len(r["videos"]) > 1)
    odd = [{**v, "video": v["video"][: len(v["video"]) - 1 + len(v["video"]) % 2]} for v in row["videos"]]
    row = {**row, "prompt": [dict(m) for m in row["prompt"]], "videos": odd}
    messages = verl_items._build_messages(row, key="prompt")
    out = _rollout(messages, processor, tokenizer, data_config)
    for (frames, meta), entry, thw in zip(out["videos"], row["videos"], out["mm_inputs"]["video_grid_thw"].tolist()):
        n = len(entry["video"])
        assert n % 2 == 1
        assert frames.shape[0] == n + 1 and torch.equal(frames[-1], frames[-2])
        assert thw[0] == math.ceil(n / 2)
        assert meta["fps"] == entry["sample_fps"]


# ----------------------------------------------------------------------------- the model sees aligned tokens


@pytest.mark.parametrize("task", ["grounding", "jigsaw"])
def test_tiny_model_forward_on_training_inputs(task, verl_items, rows, processor, tokenizer, data_config):
    """Prompt + a response through verl's training-side inputs and a Qwen3-VL forward pass.

    Qwen3-VL raises when the number of video placeholder tokens differs from the number of
    visual features, so a forward pass proves the placeholders line up with the frames.
    """
    i = next(i for i, r in enumerate(rows) if r["extra_info"]["task"] == task)
    row, out = rows[i], _rollout(verl_items[i]["raw_prompt"], processor, tokenizer, data_config)
    response = tokenizer.encode(row["reward_model"]["ground_truth"] + "<|im_end|>", add_special_tokens=False)
    input_ids = torch.tensor([out["prompt_ids"] + response])
    mm, position_ids = _training_inputs(processor, tokenizer, input_ids, out["videos"])
    # the features the loss sees are exactly the ones the rollout generated from
    assert torch.equal(mm["video_grid_thw"], out["mm_inputs"]["video_grid_thw"])
    assert torch.equal(mm["pixel_values_videos"], out["mm_inputs"]["pixel_values_videos"])
    assert position_ids.shape == (1, 4, input_ids.shape[1])

    model = build_tiny_model()
    with torch.no_grad():
        logits = model(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
            position_ids=position_ids.transpose(0, 1),  # verl's actor passes (4, B, L)
            pixel_values_videos=mm["pixel_values_videos"], video_grid_thw=mm["video_grid_thw"],
        ).logits
        reference = model(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
            mm_token_type_ids=(input_ids == processor.video_token_id).long() * 2,
            pixel_values_videos=mm["pixel_values_videos"], video_grid_thw=mm["video_grid_thw"],
        ).logits
    assert logits.shape == (1, input_ids.shape[1], model.config.text_config.vocab_size)
    assert torch.isfinite(logits).all()
    # verl's M-RoPE positions equal the ones the model computes itself
    torch.testing.assert_close(logits, reference)


def test_tiny_checkpoint_round_trip(checkpoint, processor, tokenizer):
    """The helper's checkpoint loads like a hub model and keeps the Qwen3-VL settings we rely on."""
    from transformers import AutoModelForImageTextToText

    assert type(processor).__name__ == "Qwen3VLProcessor"
    assert type(processor.video_processor).__name__ == "Qwen3VLVideoProcessor"
    assert processor.image_processor.patch_size == processor.video_processor.patch_size == PATCH_SIZE
    assert processor.video_processor.size.longest_edge == 25165824
    model = AutoModelForImageTextToText.from_pretrained(checkpoint)
    cfg = model.config
    assert type(model).__name__ == "Qwen3VLForConditionalGeneration"
    assert cfg.video_token_id == processor.video_token_id == tokenizer.convert_tokens_to_ids("<|video_pad|>")
    assert cfg.vision_start_token_id == processor.vision_start_token_id
    assert cfg.text_config.vocab_size == len(tokenizer)
    assert cfg.vision_config.deepstack_visual_indexes == [1]
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    reference = build_tiny_model()
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), reference.state_dict().values()))
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
