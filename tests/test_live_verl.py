"""Live difficulty on verl 0.9.1 (CPU): verl's dataset factory loads our class, its items go through
verl's vision processing with the Qwen3-VL processor, and the reward plug-in's reports reach a real
named actor in a local Ray."""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("verl")
pytest.importorskip("qwen_vl_utils")
ray = pytest.importorskip("ray")

from omegaconf import OmegaConf  # noqa: E402

from tiny_qwen import build_tiny_processor, build_tiny_tokenizer  # noqa: E402
from videossr.build import build  # noqa: E402
from videossr.recipe import load_recipe  # noqa: E402
from videossr.rewards.verl import compute_score  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def live_build(tmp_path_factory, clips_dir):
    out = tmp_path_factory.mktemp("live-verl-build")
    build(clips_dir, out, load_recipe("videossr30k"), size=10, workers=1, progress=False)
    return out


def _data_config(build_dir, run_dir, **live):
    return OmegaConf.create({
        "custom_cls": {"path": "pkg://videossr.live.verl", "name": "LiveVerlDataset"},
        "prompt_key": "prompt", "video_key": "videos", "image_patch_size": 16, "max_prompt_length": 8192,
        "filter_overlong_prompts": False, "return_raw_chat": True, "dataloader_num_workers": 0,
        "videossr_live": {"build": str(build_dir), "frames_dir": str(run_dir / "live-frames"), "rollouts": 2, "groups_per_step": 4,
                          "state_path": str(run_dir / "live-controller.json"), "controller": {"min_groups": 2}, **live},
    })


def test_live_dataset_through_verls_factory_vision_processing_and_reward_reports(local_ray, live_build, tmp_path):
    from verl.utils.dataset.rl_dataset import get_dataset_class

    from videossr.live.hub import find_ray_hub

    config = _data_config(live_build, tmp_path)
    cls = get_dataset_class(config)
    assert cls.__name__ == "LiveVerlDataset"
    processor = build_tiny_processor(tmp_path / "proc")
    dataset = cls(data_files=[str(live_build / "train.parquet")], tokenizer=build_tiny_tokenizer(), config=config, processor=processor, max_samples=-1)
    assert len(dataset) == 10
    jigsaw_items = [i for i in range(len(dataset)) if dataset.dataframe.live.task_of(i) == "jigsaw"]
    row = dataset[jigsaw_items[0]]
    parts = [p for m in row["raw_prompt"] for p in (m["content"] if isinstance(m["content"], list) else []) if p["type"] == "video"]
    assert len(parts) == 6 and all(len(p["video"]) == 8 and p["sample_fps"] > 0 for p in parts)  # 48 frames in 6 clips
    images, videos = asyncio.run(cls.process_vision_info(row["raw_prompt"], image_patch_size=16, config=config))
    frames, metadata = zip(*videos)
    text = processor.apply_chat_template(row["raw_prompt"], tokenize=False, add_generation_prompt=True)
    inputs = processor(text=[text], videos=list(frames), video_metadata=list(metadata), do_sample_frames=False, return_tensors="pt")
    assert inputs["video_grid_thw"].shape[0] == 6 and inputs["pixel_values_videos"].shape[0] > 0

    hub = find_ray_hub()
    assert hub is not None
    # a group of 2 rollouts per prompt, scored by the plug-in verl calls: 4 solved jigsaw groups -> 2 decisions, both harder
    truth = row["reward_model"]["ground_truth"]
    for item in jigsaw_items[:4]:
        extra = dataset[item]["extra_info"]
        for _ in range(2):
            assert compute_score("videossr/jigsaw", truth if item == jigsaw_items[0] else extra["answer"], extra["answer"], extra_info=extra)["score"] == 1.0
    state = ray.get(hub.state.remote())
    assert state["completed"] == 4 and state["open"] == {}
    moves = [(d["from_rung"], d["to_rung"]) for d in state["controller"]["decisions"]]
    assert moves == [(4, 5), (5, 6)]
    assert ray.get(hub.rung.remote("jigsaw")) == 6
    saved = json.loads((tmp_path / "live-controller.json").read_text())
    assert saved["controller"]["tasks"]["jigsaw"]["rung"] == 6
    later = dataset[jigsaw_items[0]]  # the next draw of that item is made at the new rung
    assert later["extra_info"]["live"]["rung"] == 6 and later["extra_info"]["variant"] == "n8"
