"""Importing every ``dashboard.py`` in one run of the worker, and the bytecode cache behind it.

Reuse is observed through the cache's counters and its files, never through time.
"""

from __future__ import annotations

import inspect
import marshal
import os
import sys
import threading
import types
from pathlib import Path

import pytest

from dashsite.collection import bytecode, imports
from dashsite.collection.discover import discover, load_dashboard
from dashsite.core.names import DASHBOARD_PACKAGE
from dashsite.preview.builder import PreviewBuilder
from dashsite.preview.watch import FileChange
from projects import simple, write_project

from htmltree import parse

SLUGS = ("alpha", "bravo", "charlie")


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> bytecode.CacheCounts:
    """The cache's counters, from zero."""
    fresh = bytecode.CacheCounts()
    monkeypatch.setattr(bytecode, "COUNTS", fresh)
    return fresh


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sources written a moment ago count as old enough for their stat to vouch for them,
    as they would by the next scheduled build: as if it ran an hour later."""
    monkeypatch.setattr(bytecode, "RACY_NS", -3600 * 10**9)


def three(root: Path) -> Path:
    for slug in SLUGS:
        write_project(root, {slug: simple(slug.capitalize())})
    return root


def titles(root: Path) -> list[str]:
    found = discover(root / "dashboards", root=root)
    assert found.problems == ()
    return [d.title for d in found.dashboards]


def cache_files(root: Path) -> list[str]:
    """The cache folder's files, but for the one touched to read the file system's clock."""
    folder = root / ".dashsite" / "bytecode"
    return sorted(p.name for p in folder.iterdir() if p.name != bytecode.CLOCK)


def pack_of(root: Path) -> Path:
    return root / ".dashsite" / "bytecode" / bytecode.PACK


def same_size_edit(module: Path, old: str, new: str) -> None:
    """Rewrite ``module`` with ``old`` replaced by ``new`` (same length), then put its mtime
    back: what an edit within one tick of a coarse clock looks like."""
    assert len(old) == len(new)
    before = module.stat()
    module.write_text(module.read_text().replace(old, new))
    os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert module.stat().st_size == before.st_size


# -- reuse ------------------------------------------------------------------------------


def test_a_settled_source_is_trusted_by_its_stat_alone(
    tmp_path: Path, counts: bytecode.CacheCounts, settled: None
) -> None:
    three(tmp_path)
    assert titles(tmp_path) == ["Alpha", "Bravo", "Charlie"]
    assert (counts.compiled, counts.verified, counts.trusted) == (3, 0, 0)
    assert cache_files(tmp_path) == ["modules.pack"]
    written = pack_of(tmp_path).stat()
    assert titles(tmp_path) == ["Alpha", "Bravo", "Charlie"]
    assert (counts.compiled, counts.verified, counts.trusted) == (3, 0, 3)  # sources not read
    assert pack_of(tmp_path).stat().st_ino == written.st_ino  # nothing changed: not rewritten


def test_a_source_written_just_now_is_checked_by_its_digest(
    tmp_path: Path, counts: bytecode.CacheCounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bytecode, "RACY_NS", 3600 * 10**9)  # "just now", however slow the box
    three(tmp_path)
    titles(tmp_path)
    assert titles(tmp_path) == ["Alpha", "Bravo", "Charlie"]
    # Its stat could not yet tell a same-tick edit apart: read and hashed, not compiled.
    assert (counts.compiled, counts.verified, counts.trusted) == (3, 3, 0)


@pytest.mark.parametrize("file_system", ["fine", "coarse"])
def test_an_edit_within_the_same_second_is_imported(
    tmp_path: Path, counts: bytecode.CacheCounts, monkeypatch: pytest.MonkeyPatch, file_system: str
) -> None:
    if file_system == "coarse":  # whole seconds and no ctime or inode, like FAT: same stat
        monkeypatch.setattr(
            bytecode, "stat_key", lambda st: (st.st_mtime_ns // 10**9, 0, st.st_size, 0, 0)
        )
    monkeypatch.setattr(bytecode, "RACY_NS", 3600 * 10**9)  # the edit is "just now"
    three(tmp_path)
    assert titles(tmp_path) == ["Alpha", "Bravo", "Charlie"]
    same_size_edit(tmp_path / "dashboards" / "bravo" / "dashboard.py", "Bravo", "Brave")
    assert titles(tmp_path) == ["Alpha", "Brave", "Charlie"]
    assert counts.compiled == 4


def test_an_edited_module_is_compiled_again_and_the_others_are_not(
    tmp_path: Path, counts: bytecode.CacheCounts, settled: None
) -> None:
    three(tmp_path)
    titles(tmp_path)
    module = tmp_path / "dashboards" / "charlie" / "dashboard.py"
    module.write_text(module.read_text().replace("Charlie", "Charles the Second"))
    assert titles(tmp_path) == ["Alpha", "Bravo", "Charles the Second"]
    assert (counts.compiled, counts.trusted) == (4, 2)


def test_a_removed_dashboard_leaves_the_cache(tmp_path: Path, settled: None) -> None:
    three(tmp_path)
    titles(tmp_path)
    for file in (tmp_path / "dashboards" / "bravo").iterdir():
        file.unlink()
    (tmp_path / "dashboards" / "bravo").rmdir()
    (tmp_path / "dashboards" / "alpha" / "dashboard.py").write_text('TITLE = "A"\n')
    assert titles(tmp_path) == ["A", "Charlie"]
    kept = bytecode.read_pack(tmp_path / ".dashsite" / "bytecode")
    assert sorted(Path(path).parent.name for path in kept) == ["alpha", "charlie"]


def test_the_old_one_file_per_source_cache_is_cleared(tmp_path: Path) -> None:
    three(tmp_path)
    old = tmp_path / ".dashsite" / "bytecode" / ("0" * 32 + ".pyc")
    old.parent.mkdir(parents=True)
    old.write_bytes(b"left by an earlier version")
    titles(tmp_path)
    assert cache_files(tmp_path) == ["modules.pack"]


# -- damage -----------------------------------------------------------------------------


def test_a_damaged_entry_is_ignored_and_rebuilt(
    tmp_path: Path, counts: bytecode.CacheCounts, settled: None
) -> None:
    three(tmp_path)
    titles(tmp_path)
    pack = pack_of(tmp_path)
    data = pack.read_bytes()
    assert data.count(b"Bravo") == 1  # the title, a constant in bravo's code
    pack.write_bytes(data.replace(b"Bravo", b"Brava"))  # still a valid code object
    assert titles(tmp_path) == ["Alpha", "Bravo", "Charlie"]  # never the damaged one
    assert (counts.compiled, counts.trusted) == (4, 2)
    assert titles(tmp_path) == ["Alpha", "Bravo", "Charlie"]
    assert (counts.compiled, counts.trusted) == (4, 5)  # rebuilt in the pack


@pytest.mark.parametrize("damage", ["cut short", "garbage", "empty", "another python"])
def test_a_damaged_pack_is_ignored_whole_and_rebuilt(
    tmp_path: Path, counts: bytecode.CacheCounts, settled: None, damage: str
) -> None:
    three(tmp_path)
    titles(tmp_path)
    pack = pack_of(tmp_path)
    data = pack.read_bytes()
    pack.write_bytes({
        "cut short": data[: len(data) // 2],
        "garbage": os.urandom(len(data)),
        "empty": b"",
        "another python": data.replace(bytecode.HEADER, bytecode.HEADER[:-4] + b"\x00\x00\r\n", 1),
    }[damage])
    assert titles(tmp_path) == ["Alpha", "Bravo", "Charlie"]
    assert counts.compiled == 6
    titles(tmp_path)
    assert (counts.compiled, counts.trusted) == (6, 3)


def test_an_entry_filed_under_another_path_is_not_used(
    tmp_path: Path, counts: bytecode.CacheCounts, settled: None
) -> None:
    same = "COLLECTORS = {'where': lambda: 1}\n"  # one source, so one digest, in two files
    write_project(tmp_path, {slug: {"dashboard.py": same, "template.html": "x"} for slug in SLUGS})
    discover(tmp_path / "dashboards", root=tmp_path)
    folder = tmp_path / ".dashsite" / "bytecode"
    table = bytecode.read_pack(folder)
    alpha, bravo = sorted(table)[:2]
    table[alpha], table[bravo] = table[bravo], table[alpha]
    pack_of(tmp_path).write_bytes(bytecode.HEADER + marshal.dumps(table))
    found = discover(tmp_path / "dashboards", root=tmp_path)
    for dashboard in found.dashboards:  # its own code: tracebacks name its own file
        code = dashboard.collectors[0].func.__code__
        assert code.co_filename == str(dashboard.folder / "dashboard.py")
    assert (counts.compiled, counts.trusted) == (5, 1)


def test_the_pack_is_replaced_whole_never_rewritten_in_place(
    tmp_path: Path, settled: None
) -> None:
    three(tmp_path)
    titles(tmp_path)
    pack = pack_of(tmp_path)
    before = pack.read_bytes()
    with pack.open("rb") as reader:  # a reader holding the old file
        (tmp_path / "dashboards" / "alpha" / "dashboard.py").write_text('TITLE = "A"\n')
        assert titles(tmp_path)[0] == "A"
        assert reader.read() == before  # whole, untouched
        assert os.fstat(reader.fileno()).st_ino != pack.stat().st_ino
    assert cache_files(tmp_path) == ["modules.pack"]  # no temporary file left


# -- one module at a time (serve --watch) ----------------------------------------------------


def test_a_single_reimport_writes_only_its_own_entry_and_a_build_folds_it_in(
    tmp_path: Path, counts: bytecode.CacheCounts, settled: None
) -> None:
    three(tmp_path)
    titles(tmp_path)
    pack = pack_of(tmp_path).stat()
    module = tmp_path / "dashboards" / "bravo" / "dashboard.py"
    module.write_text(module.read_text().replace("Bravo", "Bravo two"))
    loaded = load_dashboard(module.parent, root=tmp_path)
    assert loaded is not None and loaded.title == "Bravo two"
    assert counts.compiled == 4
    assert pack_of(tmp_path).stat().st_ino == pack.st_ino  # the pack is not rewritten
    entries = [name for name in cache_files(tmp_path) if name.endswith(bytecode.ENTRY_SUFFIX)]
    assert len(entries) == 1
    again = load_dashboard(module.parent, root=tmp_path)
    assert again is not None and again.title == "Bravo two"
    assert counts.compiled == 4  # its own entry, reused
    assert titles(tmp_path) == ["Alpha", "Bravo two", "Charlie"]
    assert counts.compiled == 4
    assert cache_files(tmp_path) == ["modules.pack"]  # folded into the pack


def test_serve_watch_reimports_a_module_edited_within_the_same_second(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_project(root, {"svc": {
        "dashboard.py": "from dashsite import collector\n\n@collector\ndef v():\n    return 'one'\n",
        "template.html": "<p id='v'>{{ v }}</p>",
    }})
    builder = PreviewBuilder(root, tmp_path / "preview")
    builder.full()

    def shown() -> str:
        page = (builder.out.path / "svc" / "index.html").read_text()
        return parse(page).find("p", id="v").text()

    assert shown() == "one"
    module = root / "dashboards" / "svc" / "dashboard.py"
    same_size_edit(module, "'one'", "'two'")
    result = builder.apply([FileChange(module)])
    assert result is not None and result.collected == ("svc",)
    assert shown() == "two"


# -- what a module may do --------------------------------------------------------------------


def test_a_sibling_helper_module_works_from_the_cache_and_is_read_afresh(
    tmp_path: Path, counts: bytecode.CacheCounts, settled: None
) -> None:
    write_project(tmp_path, {"d": {
        "helpers.py": "VALUE = 1\n",
        "dashboard.py": "import helpers\nfrom . import helpers as rel\n"
                        "COLLECTORS = {'v': lambda: (helpers.VALUE, rel.VALUE)}\n",
        "template.html": "{{ v }}",
    }})

    def value() -> tuple[int, int]:
        (dashboard,) = discover(tmp_path / "dashboards", root=tmp_path).dashboards
        return dashboard.collectors[0].func()

    assert value() == (1, 1)
    (tmp_path / "dashboards" / "d" / "helpers.py").write_text("VALUE = 2\n")
    assert value() == (2, 2)
    assert counts.trusted == 1  # dashboard.py from the cache; its helper imported anew
    assert "helpers" not in sys.modules
    assert not (tmp_path / "dashboards" / "d" / "__pycache__").exists()


def test_a_cached_module_knows_its_file(tmp_path: Path, settled: None) -> None:
    write_project(tmp_path, {"d": simple("D")})
    discover(tmp_path / "dashboards", root=tmp_path)
    (dashboard,) = discover(tmp_path / "dashboards", root=tmp_path).dashboards
    assert dashboard.module is not None
    path = str(tmp_path / "dashboards" / "d" / "dashboard.py")
    assert dashboard.module.__file__ == path
    assert dashboard.module.__spec__ is not None and dashboard.module.__spec__.origin == path
    status = dashboard.collectors[0].func
    assert inspect.getsourcefile(status) == path
    assert inspect.getsource(status).startswith("@collector\ndef status():")


def test_a_syntax_error_names_the_file_and_line_and_is_not_cached(
    tmp_path: Path, counts: bytecode.CacheCounts
) -> None:
    write_project(tmp_path, {"bad": {"dashboard.py": "x = 1\n\ndef (:\n", "template.html": "x"},
                             "good": simple("Good")})
    for _ in range(2):
        found = discover(tmp_path / "dashboards", root=tmp_path)
        assert [d.slug for d in found.dashboards] == ["good"]
        (problem,) = found.problems
        assert problem.slug == "bad"
        assert problem.one_line().startswith("dashboards/bad/dashboard.py:3: syntax error")
    assert counts.compiled == 1  # good once; bad is tried each time, never stored
    (tmp_path / "dashboards" / "bad" / "dashboard.py").write_text('TITLE = "Fixed"\n')
    assert titles(tmp_path) == ["Fixed", "Good"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import sys\nsys.exit(3)\n", "dashboards/b/dashboard.py:2: SystemExit while loading: 3"),
        ("import os\nos._exit(0)\n", "dashboards/b/dashboard.py:2: ExitRefused while loading"),
    ],
)
def test_a_module_that_exits_fails_alone_and_the_batch_goes_on(
    tmp_path: Path, source: str, expected: str
) -> None:
    write_project(tmp_path, {"a": simple("A"), "b": {"dashboard.py": source, "template.html": "x"},
                             "c": simple("C")})
    hard_exit = os._exit
    found = discover(tmp_path / "dashboards", root=tmp_path)
    assert [d.title for d in found.dashboards] == ["A", "C"]
    (problem,) = found.problems
    assert problem.one_line().startswith(expected)
    assert os._exit is hard_exit


def test_hanging_modules_are_each_cut_off_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = types.ModuleType("dashsite_test_gate")
    gate.release = threading.Event()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, gate.__name__, gate)
    hang = f"import {gate.__name__} as gate\ngate.release.wait(30)\nTITLE = 'late'\n"
    write_project(tmp_path, {
        "a": simple("A"),
        "hang-one": {"dashboard.py": hang, "template.html": "x"},
        "m": simple("M"),
        "hang-two": {"dashboard.py": hang, "template.html": "x"},
        "z": simple("Z"),
    })
    worker = imports.ImportWorker()
    monkeypatch.setattr(imports, "WORKER", worker)
    before = set(threading.enumerate())
    try:
        found = discover(tmp_path / "dashboards", root=tmp_path, import_timeout=1)
    finally:
        gate.release.set()  # type: ignore[attr-defined]
    assert [d.title for d in found.dashboards] == ["A", "M", "Z"]
    assert [p.slug for p in found.problems] == ["hang-one", "hang-two"]
    for problem in found.problems:
        assert problem.one_line().startswith(
            f"dashboards/{problem.slug}/dashboard.py: still loading after 1 s"
        )
    assert worker.started == 3  # one, then a fresh one after each module cut off
    worker.release()
    for thread in set(threading.enumerate()) - before:  # the stuck modules end
        thread.join(timeout=5)
    folders = {str(tmp_path / "dashboards" / slug) for slug in ("a", "hang-one", "m", "hang-two")}
    assert not folders & set(sys.path)
    assert not [name for name in sys.modules if name.startswith(f"{DASHBOARD_PACKAGE}.")]


def test_a_cut_off_module_that_ends_late_cannot_change_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = types.ModuleType("dashsite_test_gate")
    gate.release = threading.Event()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, gate.__name__, gate)
    late = f"import {gate.__name__} as gate\ngate.release.wait(10)\nTITLE = 'late'\n"
    # The next module frees the stuck one and waits until its thread has gone: the stuck
    # module ends while the run it was cut from goes on.
    frees = (
        f"import threading, {gate.__name__} as gate\n"
        "gate.release.set()\n"
        "for thread in threading.enumerate():\n"
        "    if thread.name == 'dashsite-import' and thread is not threading.current_thread():\n"
        "        thread.join(5)\n"
        "TITLE = 'M'\n"
    )
    write_project(tmp_path, {
        "a": simple("A"),
        "late": {"dashboard.py": late, "template.html": "x"},
        "m": {"dashboard.py": frees, "template.html": "x"},
        "z": simple("Z"),
    })
    worker = imports.ImportWorker()
    worker.IDLE = 0.05  # the stuck thread ends soon after its module does
    monkeypatch.setattr(imports, "WORKER", worker)
    try:  # a generous deadline: m, which waits for the stuck thread, must finish in it
        found = discover(tmp_path / "dashboards", root=tmp_path, import_timeout=2)
    finally:
        gate.release.set()  # type: ignore[attr-defined]
    assert [d.title for d in found.dashboards] == ["A", "M", "Z"]
    assert [p.slug for p in found.problems] == ["late"]
    assert "still loading after 2 s" in found.problems[0].one_line()
    assert not [name for name in sys.modules if name.startswith(f"{DASHBOARD_PACKAGE}.")]


def test_discovery_gives_back_what_it_set_aside_from_the_garbage_collector(
    tmp_path: Path,
) -> None:
    import gc
    import weakref

    class Node:
        pass

    three(tmp_path)
    before = Node()
    before.self = before  # type: ignore[attr-defined]  # garbage only a collection frees
    gone = weakref.ref(before)
    del before
    assert gc.get_freeze_count() == 0
    titles(tmp_path)
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None
    gc.freeze()  # someone else's freeze is left as it is
    try:
        frozen = gc.get_freeze_count()
        titles(tmp_path)
        # Not == frozen: a frozen object still dies when its last reference goes (a module
        # the import replaced, say). Given back, it would be none of them.
        assert gc.get_freeze_count() >= 0.99 * frozen
    finally:
        gc.unfreeze()
