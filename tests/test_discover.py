from videossr.discover import assign_ids, find_videos


def test_ids_are_relative_paths_without_extension():
    ids = assign_ids(["a/b/clip.mp4", "top.webm"])
    assert ids == {"a/b/clip.mp4": "a__b__clip", "top.webm": "top"}


def test_same_stem_different_extension_gets_distinct_ids():
    ids = assign_ids(["clip.mp4", "clip.mkv", "other.mp4"])
    assert ids["clip.mp4"] == "clip_mp4" and ids["clip.mkv"] == "clip_mkv" and ids["other.mp4"] == "other"


def test_unsafe_characters_and_sanitising_clashes():
    ids = assign_ids(["my clip!.mp4", "my_clip_.mp4", "dír/ü ber.mov"])
    assert len(set(ids.values())) == 3
    for vid in ids.values():
        assert "/" not in vid and " " not in vid and vid.isascii()


def test_ids_do_not_depend_on_order():
    paths = ["b.mp4", "a/x.mkv", "a/x.mp4", "c d.avi"]
    assert assign_ids(paths) == assign_ids(list(reversed(paths)))


def test_find_videos_skips_hidden_and_excluded(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "a.mp4").write_bytes(b"x")
    (tmp_path / ".hidden.mp4").write_bytes(b"x")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "b.mp4").write_bytes(b"x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "c.mp4").write_bytes(b"x")
    found = find_videos(tmp_path, exclude=[tmp_path / "out"])
    assert [f.rel_path for f in found] == ["v/a.mp4"]
    assert found[0].video_id == "v__a"


# ----------------------------------------------------------------------------- long names (issue 17, Found 5)

from videossr.names import MAX_ID_BYTES, NAME_MAX_BYTES  # noqa: E402


def test_ids_of_255_character_names_are_bounded_distinct_and_stable():
    long_a, long_b = "a" * 251 + ".mp4", "a" * 250 + "b.mp4"  # 255 characters, the Linux limit
    multibyte = "é" * 125 + ".mp4"  # 254 bytes of UTF-8
    deep = "d" * 200 + "/" + "e" * 200 + ".mp4"  # folders joined into the id
    ids = assign_ids([long_a, long_b, multibyte, deep, "short.mp4"])
    assert ids["short.mp4"] == "short"
    assert all(len(v.encode()) <= MAX_ID_BYTES for v in ids.values())
    assert len(set(ids.values())) == 5
    assert ids[long_a].startswith("a" * 100) and ids == assign_ids([deep, multibyte, long_b, long_a, "short.mp4"])


def test_build_and_sample_a_folder_with_255_character_names(tmp_path):
    import subprocess
    import sys

    from integrity_helpers import make_video

    from videossr.build import build
    from videossr.recipe import parse_recipe

    src = tmp_path / "src"
    names = ["a" * 251 + ".mp4", "ü" * 125 + ".mp4", "ok.mp4"]
    for k, name in enumerate(names):
        make_video(src / name, k)
    assert max(len(n.encode()) for n in names) == NAME_MAX_BYTES
    recipe = parse_recipe({"name": "long", "sampling": {"num_frames": 16}, "entries": [
        {"task": "grounding", "variant": "invert", "options": {"min_length": 4, "max_length": 6}}, {"task": "jigsaw", "variant": "easy"}]})
    report = build(src, tmp_path / "out", recipe, workers=1, progress=False)
    assert report.rows == 6
    result = subprocess.run([sys.executable, "-m", "videossr", "sample", str(src), "--out", str(tmp_path / "s"), "--no-progress"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-500:]
    for out in (tmp_path / "out", tmp_path / "s"):
        longest = max(len(p.name.encode()) for p in out.rglob("*"))
        assert longest <= MAX_ID_BYTES + 20, longest


# ----------------------------------------------------------------------------- symbolic links in the input folder


def test_symlinks_are_followed_once_and_broken_ones_reported(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "sub").mkdir(parents=True)
    (elsewhere / "real.mp4").write_bytes(b"x")
    (elsewhere / "sub" / "deep.mp4").write_bytes(b"x")
    root = tmp_path / "videos"
    root.mkdir()
    (root / "link.mp4").symlink_to(elsewhere / "real.mp4")  # a link to a file outside
    (root / "dir").symlink_to(elsewhere / "sub")  # a link to a folder outside
    (root / "loop").symlink_to(root)  # a loop back to the root
    (root / "again").symlink_to(elsewhere / "sub")  # the same folder twice
    (root / "broken.mp4").symlink_to(tmp_path / "missing.mp4")
    found = find_videos(root)
    # sorted walk: "again" comes before "dir", so the shared folder is listed once, under "again"
    assert [f.rel_path for f in found] == ["broken.mp4", "link.mp4", "again/deep.mp4"]
    assert found[1].path == root.resolve() / "link.mp4"  # the link's own path, not its target


def test_broken_link_becomes_a_skip_record(tmp_path):
    from integrity_helpers import make_video

    from videossr.framestore import sample_folder

    root = tmp_path / "videos"
    make_video(root / "good.mp4", 0)
    (root / "broken.mp4").symlink_to(tmp_path / "missing.mp4")
    result = sample_folder(root, tmp_path / "out", workers=1, progress=False)
    reasons = {r["video_id"]: r["reason"] for r in result.skipped}
    assert "unreadable" in reasons["broken"] and [r["video_id"] for r in result.sampled] == ["good"]
