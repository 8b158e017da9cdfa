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
