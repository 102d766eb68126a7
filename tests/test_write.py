"""The site writer: containment, atomic swaps, identical content left alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dashsite.core.errors import SiteError
from dashsite.store.write import SiteFolder, StagedSite, contained, exchange


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/passwd", "", "a//b"])
def test_paths_outside_the_folder_are_refused(tmp_path: Path, bad: str) -> None:
    folder = SiteFolder(tmp_path / "site")
    with pytest.raises(SiteError, match="outside the site"):
        folder.write(bad, "x")


def test_a_symlinked_folder_pointing_out_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    site = tmp_path / "site"
    site.mkdir()
    (site / "evil").symlink_to(outside)
    (site / "fine").mkdir()
    (site / "inner").symlink_to(site / "fine")
    folder = SiteFolder(site)
    with pytest.raises(SiteError, match="outside the site"):
        folder.write("evil/index.html", "pwned")
    assert list(outside.iterdir()) == []
    folder.write("inner/index.html", "ok")  # a link that stays inside is fine
    assert (site / "fine" / "index.html").read_text() == "ok"
    sibling = tmp_path / "site-evil"  # a string-prefix check would let this through
    sibling.mkdir()
    with pytest.raises(SiteError):
        contained(site, Path("..") / "site-evil" / "x")


def test_a_file_link_is_replaced_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "secret.txt"
    target.write_text("keep")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").symlink_to(target)
    for private in (False, True):
        SiteFolder(site, private=private).write("index.html", f"new {private}")
        assert target.read_text() == "keep"
        assert not (site / "index.html").is_symlink()


def test_identical_content_is_not_rewritten(tmp_path: Path) -> None:
    folder = SiteFolder(tmp_path)
    folder.write("a/b.html", "same")
    inode = (tmp_path / "a" / "b.html").stat().st_ino
    folder.write("a/b.html", "same")
    assert (tmp_path / "a" / "b.html").stat().st_ino == inode
    assert folder.written == 1


def test_staged_writes_never_touch_the_live_site(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("old")
    (site / "keep.txt").write_text("kept")
    staged = StagedSite(site)
    staged.start_empty()  # what a pull fills, then swaps in whole
    staged.write("index.html", "new")
    assert (site / "index.html").read_text() == "old"  # the live site is untouched
    staged.commit()
    assert (site / "index.html").read_text() == "new"
    assert not (site / "keep.txt").exists()  # the whole site was replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dashsite", "site"]
    assert [p.name for p in (tmp_path / ".dashsite").iterdir()] == [".gitignore"]


def test_exchange_swaps_two_folders(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "from-a").touch()
    (b / "from-b").touch()
    if not exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available on this system")
    assert os.listdir(a) == ["from-b"] and os.listdir(b) == ["from-a"]


def test_an_interrupted_two_rename_swap_is_undone(tmp_path: Path) -> None:
    site = tmp_path / "site"
    old = tmp_path / ".site.old-123-456"
    old.mkdir()
    (old / "index.html").write_text("previous")
    (tmp_path / ".site.staging-1-2").mkdir()
    StagedSite(site).recover()
    assert (site / "index.html").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_an_interrupted_swap_in_the_state_folder_is_undone(tmp_path: Path) -> None:
    site = tmp_path / "site"
    state = tmp_path / ".dashsite"
    state.mkdir()
    old = state / "site.old-123-456"
    old.mkdir()
    (old / "index.html").write_text("previous")
    (state / "site.staging-1-2").mkdir()
    StagedSite(site).recover()
    assert (site / "index.html").read_text() == "previous"
    assert sorted(p.name for p in state.iterdir()) == []


def test_a_derived_page_the_last_build_wrote_is_skipped_without_a_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashsite.store import write
    from dashsite.store.write import WrittenDigests

    site = tmp_path / "site"
    site.mkdir()
    (site / "manifest.json").write_text("{}")
    first = SiteFolder(site, digests=WrittenDigests(site))
    first.write("api/history/index.html", "<p>same</p>")
    first.write("api/index.html", "<p>old</p>")
    first.write("api/log/2026-11/27.jsonl", "{}\n")  # the log is not a derived page
    first.digests.save()  # type: ignore[union-attr]

    reads: list[str] = []
    real = write._same_content
    monkeypatch.setattr(write, "_same_content", lambda t, p: reads.append(t) or real(t, p))
    second = SiteFolder(site, digests=WrittenDigests(site))
    second.write("api/history/index.html", "<p>same</p>")  # known, unchanged: not even read
    second.write("api/index.html", "<p>new</p>")  # known, changed: written without a read
    second.write("api/log/2026-11/27.jsonl", "{}\n")  # compared on disk, as before
    assert [Path(r).relative_to(site).as_posix() for r in reads] == ["api/log/2026-11/27.jsonl"]
    assert second.written == 1
    assert (site / "api" / "index.html").read_text() == "<p>new</p>"
    assert (site / "api" / "history" / "index.html").read_text() == "<p>same</p>"


def test_the_digests_are_void_after_a_failed_build_or_a_swapped_site(tmp_path: Path) -> None:
    from dashsite.store.write import WrittenDigests

    site = tmp_path / "site"
    site.mkdir()
    (site / "manifest.json").write_text("{}")
    first = SiteFolder(site, digests=WrittenDigests(site))
    first.write("index.html", "<p>a</p>")
    first.digests.save()  # type: ignore[union-attr]
    assert WrittenDigests(site).previous == {"index.html": first.digests.current["index.html"]}  # type: ignore[union-attr]
    assert WrittenDigests(site).previous == {}  # taken by the build that read it: none saved since
    first.digests.save()  # type: ignore[union-attr]
    (site / "manifest.json").write_text('{"changed": 1}')  # someone else wrote the site
    assert WrittenDigests(site).previous == {}
    # A hand edit of a page is restored by the next build whose content differs, and
    # a build without the file (void digests) compares on disk, so nothing is lost.
    (site / "index.html").write_text("<p>edited</p>")
    again = SiteFolder(site, digests=WrittenDigests(site))
    again.write("index.html", "<p>a</p>")
    assert (site / "index.html").read_text() == "<p>a</p>"


def test_state_files_nested_too_deep_are_void_caches_not_a_crash(tmp_path: Path) -> None:
    """The build's own state (the written digests, today's tallies, a killed build's
    journal) is read back like anything else: nested past Python's recursion limit, it
    is a damaged cache, and the build goes on without it."""
    from dashsite.store.layout import JOURNAL_FILE, TEMP_FOLDER
    from projects import build, simple, write_project

    root = write_project(tmp_path, {"alpha": simple("Alpha")})
    build(root, version_id="v1")
    (root / "dashboards" / "alpha" / "template.html").write_text("<p>{{ count }} again</p>")
    deep = "[" * 200_000
    state = root / ".dashsite"
    for name in ("site.written.json", "site.live.json"):
        assert (state / name).is_file()
        (state / name).write_text(deep)
    (root / "site" / TEMP_FOLDER).mkdir()
    (root / "site" / TEMP_FOLDER / JOURNAL_FILE).write_text(deep)
    result = build(root, version_id="v2")
    assert result.exit_code(strict=True) == 0
    page = (root / "site" / "alpha" / "index.html").read_text()
    assert "v2" in page and not (root / "site" / TEMP_FOLDER).exists()


def test_an_old_sites_data_file_nested_too_deep_is_skipped_when_its_manifest_is_rebuilt(
    tmp_path: Path,
) -> None:
    """Without a manifest, an old (schema-1) site is read back from its versions'
    ``data.json``: one nested past the recursion limit is a damaged version, left out."""
    import json

    from dashsite.store.version_store import VersionStore

    site = tmp_path / "site"
    good = {"dashboard": "alpha", "version": "v1", "collected_at": "2026-11-27T10:00:00+00:00",
            "status": "ok", "data": {}, "title": "Alpha"}  # fmt: skip
    for version, text in (("v1", json.dumps(good)), ("v2", "[" * 200_000)):
        (site / "alpha" / version).mkdir(parents=True)
        (site / "alpha" / version / "data.json").write_text(text)
    manifest = VersionStore(site).rebuild_manifest()
    assert [entry.id for entry in manifest.legacy["alpha"]] == ["v1"]


def test_a_bare_file_name_is_written_through_a_temp_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``dashsite mail --eml preview.eml``: the temp file goes in the working folder (not
    ``/``, which a user cannot write and which may be another file system)."""
    from dashsite.store import write

    monkeypatch.chdir(tmp_path)
    seen: list[str] = []
    real = write._temp_name
    monkeypatch.setattr(write, "_temp_name", lambda target: seen.append(real(target)) or seen[-1])
    write.atomic_write(Path("preview.eml"), b"x", make_parents=False)
    assert (tmp_path / "preview.eml").read_bytes() == b"x"
    assert seen and not seen[0].startswith("/") and seen[0].startswith(".preview.eml.")
    with pytest.raises(IsADirectoryError) as raised:  # named as asked, not as its temp file
        write.atomic_write(tmp_path, b"x", make_parents=False)
    assert raised.value.filename == str(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preview.eml"]  # no temp left


def test_the_store_holds_its_paths_to_the_site(tmp_path: Path) -> None:
    """``VersionStore.inside``: the usual path goes a short way (its folders checked once),
    and everything else the long way; a link out of the site is refused either way."""
    from dashsite.store.version_store import VersionStore

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "05.jsonl").write_text("{}\n")
    site = tmp_path / "site"
    (site / "alpha" / "log" / "2026-12").mkdir(parents=True)
    (site / "evil").symlink_to(outside)
    (site / "alpha" / "log" / "2026-11").symlink_to(outside)
    (site / "alpha" / "log" / "2026-12" / "04.jsonl").symlink_to(outside / "05.jsonl")
    (site / "fine").symlink_to(site / "alpha")
    store = VersionStore(site)
    for _ in range(2):  # the second time, from what the first one found
        assert store.inside("alpha/log/2026-12/05.jsonl") == site / "alpha/log/2026-12/05.jsonl"
        assert store.inside("fine/log/2026-12/05.jsonl") == site / "fine/log/2026-12/05.jsonl"
        for bad in ("evil/05.jsonl", "alpha/log/2026-11/05.jsonl", "alpha/log/2026-12/04.jsonl",
                    "alpha/../../outside/05.jsonl", "/etc/passwd"):
            with pytest.raises(SiteError, match="outside the site"):
                store.inside(bad)
