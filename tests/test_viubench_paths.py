"""Frame and mp4 paths in a bench's items.jsonl stay inside the bench folder: a path that leaves it
(absolute, ``..``, a symlink pointing out) is refused in one line before anything is read or sent."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from eval_fake_server import FakeChatServer
from videossr.cli import main
from videossr.errors import UserError
from videossr.evaluate.session import evaluate
from videossr.viubench import BENCH_VERSION, load_items

SECRET = "top secret: never send me"


def _bench(root, frame_paths: list[str]):
    """A one-item VIUBench folder whose grounding clip lists ``frame_paths`` (relative to ``root``)."""
    root.mkdir(parents=True)
    (root / "bench.json").write_text(json.dumps({"viubench_version": BENCH_VERSION, "complete": True, "seed": 0}), encoding="utf-8")
    record = {
        "viubench_version": BENCH_VERSION, "id": "grounding-mirror-000000", "subset": "grounding_mirror", "task": "grounding",
        "variant": "mirror", "ability": "spatial", "data_source": "videossr/grounding", "video_id": "v", "system_prompt": "Answer.",
        "user": "<video>\nWhen is the video mirrored?", "question": "When is the video mirrored?", "answer": "1.0-2.0",
        "clips": [frame_paths], "sample_fps": 4.8, "max_pixels": 512 * 512, "min_pixels": 16384, "params": {},
    }
    (root / "items.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    return root


def _frames(folder, n: int = 4) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((32, 32, 3), 40 * i, dtype=np.uint8)).save(folder / f"{i:06d}.jpg")


@pytest.fixture
def outside(tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "private.jpg").write_text(SECRET)
    return tmp_path / "outside" / "private.jpg"


def test_frames_inside_the_folder_load_as_absolute_paths(tmp_path):
    bench = _bench(tmp_path / "bench", [f"build/f/{i:06d}.jpg" for i in range(4)])
    _frames(bench / "build" / "f")
    (item,) = load_items(bench)
    assert item.clips[0] == tuple(str(bench.resolve() / "build" / "f" / f"{i:06d}.jpg") for i in range(4))


@pytest.mark.parametrize("bad", ["/etc/passwd", "../outside/private.jpg", "build/../../outside/private.jpg", "link/private.jpg", "private_link.jpg"])
def test_a_path_leaving_the_folder_is_refused_in_one_line(tmp_path, outside, bad):
    bench = _bench(tmp_path / "bench", ["build/f/000000.jpg", bad])
    _frames(bench / "build" / "f", 1)
    os.symlink(outside.parent, bench / "link")  # a folder inside the bench that points out of it
    os.symlink(outside, bench / "private_link.jpg")  # a file inside the bench that points out of it
    with pytest.raises(UserError, match=r"items.jsonl line 1: path .* leaves the VIUBench folder") as info:
        load_items(bench)
    assert "\n" not in str(info.value)


def test_nothing_is_sent_for_a_bench_with_an_escaping_path(tmp_path, outside, capsys):
    bench = _bench(tmp_path / "bench", ["../outside/private.jpg"])
    server = FakeChatServer().start()
    try:
        with pytest.raises(UserError, match="leaves the VIUBench folder"):
            evaluate(bench, backend="openai", out=tmp_path / "run", backend_options={"model": "m", "base_url": [server.url]}, progress=False)
        code = main(["eval", str(bench), "--backend", "openai", "--model", "m", "--base-url", server.url, "--out", str(tmp_path / "run2"), "--no-progress"])
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "leaves the VIUBench folder" in err and SECRET not in err
    assert server.bodies == []
