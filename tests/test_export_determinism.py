"""Exported mp4s are a pure function of their frames and fps: byte-identical whatever the number of
export workers, the process that encodes them or the CPUs it may use."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from conftest import tree_digest
from videossr.export import export_eval, write_mp4, yuv420p


def test_rgb_to_yuv420p_matches_bt601_limited_range():
    colours = {(255, 255, 255): (235, 128, 128), (0, 0, 0): (16, 128, 128), (255, 0, 0): (81, 90, 240), (0, 255, 0): (145, 54, 34), (0, 0, 255): (41, 240, 110)}
    for rgb, expected in colours.items():  # BT.601 studio swing, rounded (Poynton's table), within one code value
        planes = yuv420p(np.full((2, 4, 3), rgb, dtype=np.uint8))
        y, u, v = planes[:2].ravel(), planes[2, :2], planes[2, 2:]
        assert planes.shape == (3, 4) and planes.dtype == np.uint8
        assert np.abs(np.concatenate([y, u, v]).astype(int) - np.repeat(expected, [8, 2, 2])).max() <= 1, rgb
    left_red_right_blue = np.zeros((2, 2, 3), dtype=np.uint8)
    left_red_right_blue[:, 0, 0], left_red_right_blue[:, 1, 2] = 255, 255
    planes = yuv420p(left_red_right_blue)
    assert planes[2, 0] == (((-38 * 255 + 112 * 255) // 2 + 128) >> 8) + 128  # chroma of the 2x2 mean (127.5 red, 127.5 blue)


def test_export_is_byte_identical_with_one_and_two_workers(built_all_tasks, tmp_path):
    dataset, _ = built_all_tasks
    export_eval(dataset, tmp_path / "w1", workers=1, progress=False)
    export_eval(dataset, tmp_path / "w2", workers=2, progress=False)
    one, two = tree_digest(tmp_path / "w1"), tree_digest(tmp_path / "w2")
    assert one == two and sum(name.endswith(".mp4") for name in one) >= 6


def test_an_mp4_has_the_same_bytes_in_another_process_on_one_cpu(built_all_tasks, tmp_path):
    dataset, _ = built_all_tasks
    frames = sorted(str(p) for p in (dataset / "store").rglob("*.jpg"))[:24]
    write_mp4(tmp_path / "here.mp4", frames, 4.8)
    script = (
        "import json, os, sys\nfrom pathlib import Path\n"
        "if hasattr(os, 'sched_setaffinity'): os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        "from videossr.export import write_mp4\n"
        "write_mp4(Path(sys.argv[1]), json.loads(sys.argv[2]), 4.8)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "there.mp4"), json.dumps(frames)], check=True, env=env)
    assert (tmp_path / "here.mp4").read_bytes() == (tmp_path / "there.mp4").read_bytes()
