"""Property: after any sequence of input edits, option changes and killed runs, a rerun leaves the
output folder byte for byte equal to a clean build of the final state."""

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integrity_helpers import RECIPE, assert_equals_clean_build, make_folder, make_video, quick_build, recipe

RECIPES = [RECIPE["entries"], RECIPE["entries"][1:], [{"task": "grounding", "variant": "mixed"}, {"task": "jigsaw", "variant": "n4", "weight": 2}]]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(10, 40)),
        st.tuples(st.just("remove"), st.integers(0, 9)),
        st.tuples(st.just("replace"), st.integers(0, 9), st.integers(10, 40)),
        st.tuples(st.just("rename"), st.integers(0, 9)),
        st.tuples(st.just("seed"), st.integers(0, 3)),
        st.tuples(st.just("size"), st.sampled_from([None, 3, 7])),
        st.tuples(st.just("recipe"), st.integers(0, len(RECIPES) - 1)),
        st.tuples(st.just("kill"), st.floats(0.3, 2.5)),
    ),
    min_size=1,
    max_size=5,
)


class World:
    """The input folder and the build settings as the sequence leaves them."""

    def __init__(self, root: Path):
        self.src, self.out, self.root = make_folder(root / "src", 3), root / "out", root
        self.seed, self.size, self.entries = 0, None, RECIPES[0]
        self.renames = 0

    def videos(self) -> list[Path]:
        return sorted(self.src.glob("*.mp4"))

    def recipe(self):
        return recipe(seed=self.seed, entries=self.entries)

    def rebuild(self, overwrite: bool) -> None:
        quick_build(self.src, self.out, self.recipe(), size=self.size, overwrite=overwrite)

    def killed_run(self, delay_s: float) -> None:
        path = self.root / "recipe.yaml"
        path.write_text(yaml.safe_dump({**RECIPE, "seed": self.seed, "entries": self.entries}))
        cmd = [sys.executable, "-m", "videossr", "build", str(self.src), "--out", str(self.out), "--recipe", str(path),
               "--workers", "2", "--no-progress", "--overwrite"] + (["--size", str(self.size)] if self.size else [])
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay_s)
        if proc.poll() is None:
            import os

            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def apply(self, step: tuple) -> bool:
        """Apply one step; True when it changed the settings (the rerun then needs overwrite)."""
        kind, *args = step
        videos = self.videos()
        if kind == "add":
            make_video(self.src / f"added{args[0]}.mp4", args[0])
        elif kind == "remove" and len(videos) > 1:
            videos[args[0] % len(videos)].unlink()
        elif kind == "replace":
            make_video(videos[args[0] % len(videos)], args[1])
        elif kind == "rename":
            self.renames += 1
            videos[args[0] % len(videos)].rename(self.src / f"renamed{self.renames}.mp4")
        elif kind == "kill":
            self.killed_run(args[0])
        elif kind in ("seed", "size", "recipe"):
            self.seed = args[0] if kind == "seed" else self.seed
            self.size = args[0] if kind == "size" else self.size
            self.entries = RECIPES[args[0]] if kind == "recipe" else self.entries
            return True
        return False


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_any_sequence_of_edits_and_reruns_equals_a_clean_build(sequence):
    with tempfile.TemporaryDirectory() as tmp:
        world = World(Path(tmp))
        world.rebuild(overwrite=False)
        for step in sequence:
            changed = world.apply(step)
            world.rebuild(overwrite=changed or step[0] == "kill")
        assert_equals_clean_build(world.src, world.out, world.recipe(), size=world.size)
