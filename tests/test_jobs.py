"""``dashsite build --jobs``: worker processes file the dashboards, and the site is the same.

Each test builds the same project twice, once in one process and once with
workers, at the same moments, and compares what a visitor and the next build
read: every file of the site, the build's report, the manifest.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from datetime import timedelta
from pathlib import Path

import pytest

from dashsite.core.config import load_config
from dashsite.core.reporter import RecordingReporter
from dashsite.site.build import BuildOptions, BuildResult, build_site
from dashsite.site.workers import (
    JOBS_PER_CPU,
    MIN_SHARE,
    blocks,
    cpu_count,
    jobs_for,
    run_blocks,
)
from projects import (
    T0,
    assert_site_whole,
    cli,
    fixed_clock,
    logged_versions,
    simple,
    write_project,
)

FAILING = {
    "dashboard.py": """
        from dashsite import collector

        TITLE = "Failing"

        @collector
        def ok():
            return 1

        @collector
        def broken():
            raise RuntimeError("source down")
    """,
    "template.html": "<p>{{ ok }}</p>",
}
BAD_TEMPLATE = {  # renders only when its data is there: a build with none is a problem
    "dashboard.py": "from dashsite import collector\nTITLE = 'Bad'\n\n@collector\ndef a():\n"
    "    return 1\n",
    "template.html": "{{ a.missing.deeper }}",
}
MARKDOWN = {
    "dashboard.py": "from dashsite import collector\nTITLE = 'Notes'\n\n@collector\n"
    "def n():\n    return 7\n",
    "template.md": "# Notes\n\n**{{ n }}** things, *fine*.\n",
}


@pytest.fixture(autouse=True)
def forks_allowed(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The threads other tests leave in this process (servers, pools) would keep a build
    from forking; these tests are about the workers. The one about threads opts out."""
    if "another_thread" not in request.node.name:
        from dashsite.site import build as build_module

        monkeypatch.setattr(build_module, "other_threads", lambda: [])


def _project(root: Path) -> Path:
    dashboards = {f"svc-{n}": simple(f"Service {n}") for n in range(5)}
    dashboards |= {"failing": FAILING, "bad": BAD_TEMPLATE, "notes": MARKDOWN}
    return write_project(root, dashboards, config='title = "Jobs"\nretention = 2\n')


def _build(root: Path, jobs: int | None, n: int) -> tuple[BuildResult, RecordingReporter]:
    moment = T0 + timedelta(minutes=5 * n)
    reporter = RecordingReporter()
    options = BuildOptions(version_id=f"v{n}", clock=fixed_clock(moment), jobs=jobs)
    return build_site(load_config(root), options, reporter), reporter


def _report(result: BuildResult) -> dict[str, object]:
    found = result.to_json()
    for varying in ("site", "duration", "bytes_written"):  # durations are in the data files
        found.pop(varying)
    return found


_DURATION = re.compile(rb'"durations?": ?(\{[^}]*\}|[0-9.e-]+)')


def _events(reporter: RecordingReporter) -> list[tuple[str, str, str]]:
    """What the build told, in any order, the finish line's duration blanked."""
    return sorted(
        (e.kind, e.slug, re.sub(r"in [0-9.]+ s", "-", e.message)) for e in reporter.events
    )


def _files(site: Path) -> dict[str, bytes]:
    """Every file of the site, the collectors' measured durations blanked."""
    return {
        str(path.relative_to(site)): _DURATION.sub(b"-", path.read_bytes())
        for path in sorted(site.rglob("*"))
        if path.is_file()
    }


def test_workers_build_the_same_site_as_one_process(tmp_path: Path) -> None:
    one, many = _project(tmp_path / "one"), _project(tmp_path / "two")
    for n in range(4):  # retention = 2: the third and fourth builds prune
        serial, serial_events = _build(one, 1, n)
        parallel, parallel_events = _build(many, 3, n)
        assert _report(parallel) == _report(serial)
        assert _files(many / "site") == _files(one / "site"), f"build {n}"
        assert _events(parallel_events) == _events(serial_events)
    assert parallel.pruned == serial.pruned and parallel.pruned  # retention ran in the workers
    assert {p.one_line() for p in parallel.problems} == {p.one_line() for p in serial.problems}
    assert any("bad" in p.one_line() for p in parallel.problems)
    assert_site_whole(many / "site")
    assert logged_versions(many / "site")["svc-0"] == ["v2", "v3"]


def test_the_next_build_reads_what_the_workers_left(tmp_path: Path) -> None:
    """The state a worker keeps (written digests, today's tally) reaches the state folder: a
    following build in one process writes the same as after a build in one process."""
    one, many = _project(tmp_path / "one"), _project(tmp_path / "two")
    _build(one, 1, 0)
    _build(many, 3, 0)
    state = many / "site" / ".." / ".dashsite"
    live = (state / "site.live.json").read_text().splitlines()[1:]  # a tally a line
    assert {line.split("\t")[0] for line in live} >= {f"svc-{n}" for n in range(5)}
    written = json.loads((state / "site.written.json").read_text())["digests"]
    assert "svc-4/index.html" in written and "svc-0/history/index.html" in written
    serial, _ = _build(one, 1, 1)
    after_workers, _ = _build(many, 1, 1)
    assert after_workers.files_written == serial.files_written
    assert _files(many / "site") == _files(one / "site")


def test_a_worker_killed_fails_the_build_in_one_line_and_the_next_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "p")
    _build(root, 2, 0)
    from dashsite.site import build as build_module

    real = build_module.SiteBuilder._part

    test = os.getpid()

    def dies(self, filing, writer, opened, pending, moment, slugs):  # type: ignore[no-untyped-def]
        assert os.getpid() != test, "not in a worker"
        if "svc-4" in slugs:  # the second block's worker files, then is killed
            real(self, filing, writer, opened, pending, moment, slugs)
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, filing, writer, opened, pending, moment, slugs)

    monkeypatch.setattr(build_module.SiteBuilder, "_part", dies)
    from dashsite.core.errors import SiteError

    with pytest.raises(SiteError) as raised:
        _build(root, 2, 1)
    assert "a build worker stopped (signal SIGKILL)" in str(raised.value)
    assert "run the build again" in str(raised.value)
    monkeypatch.undo()
    _build(root, 2, 2)
    versions = logged_versions(root / "site")
    # retention = 2; v1 was filed by the killed worker: adopted. The other worker was
    # stopped when the first failed, wherever it was.
    assert versions["svc-4"] == ["v1", "v2"]
    assert all(ids[-1] == "v2" for ids in versions.values())
    assert_site_whole(root / "site")


def test_the_cli_says_why_a_worker_failed(tmp_path: Path) -> None:
    """A site-wide error in a worker (a broken history layout) is the same one line as
    in one process, and exit code 1."""
    root = _project(tmp_path / "p")
    layouts = root / "dashboards" / "_layouts"
    layouts.mkdir()
    (layouts / "history.html").write_text("{% extends 'base.html' %}\n{% block x %}\n")
    serial = cli(root, "build", "--jobs", "1")
    shutil.rmtree(root / "site")
    shutil.rmtree(root / ".dashsite", ignore_errors=True)
    parallel = cli(root, "build", "--jobs", "2")
    assert parallel.returncode == serial.returncode == 1
    assert "history.html" in parallel.stderr
    assert parallel.stderr.strip().splitlines()[-1] == serial.stderr.strip().splitlines()[-1]
    assert "Traceback" not in parallel.stderr


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5"])
def test_jobs_must_be_a_count(tmp_path: Path, text: str) -> None:
    root = _project(tmp_path / "p")
    found = cli(root, "build", "--jobs", text)
    assert found.returncode == 2
    assert "--jobs" in found.stderr and "1 or more" in found.stderr


def test_how_many_workers() -> None:
    assert jobs_for(None, 10) == 1  # too few to pay for a process
    assert jobs_for(4, 10) == 4 and jobs_for(4, 2) == 2 and jobs_for(1, 1000) == 1
    assert jobs_for(None, 1000) == min(cpu_count(), 1000 // MIN_SHARE)
    assert jobs_for(None, 2 * MIN_SHARE - 1) == 1
    assert jobs_for(100_000, 100_000) == JOBS_PER_CPU * cpu_count()  # a typo forks no army
    assert blocks(list("abcdefg"), 3) == [["a", "b", "c"], ["d", "e"], ["f", "g"]]
    assert blocks(list("ab"), 3) == [["a"], ["b"]]


def test_what_the_build_printed_before_the_workers_is_printed_once(tmp_path: Path) -> None:
    """A worker is a copy of the build, with its unflushed output: it must not print it
    again (multiprocessing flushes before it forks; a bare os.fork would not). A collector
    prints (block-buffered: stdout is a pipe), then --json."""
    root = _project(tmp_path / "p")
    (root / "dashboards" / "svc-0" / "dashboard.py").write_text(
        "from dashsite import collector\nTITLE = 'Loud'\n\n@collector\ndef count():\n"
        "    print('collector says hello')\n    return 1\n"
    )
    (root / "dashboards" / "svc-0" / "template.html").write_text("<p>{{ count }}</p>")
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    found = cli(root, "build", "--jobs", "3", "--json", env=buffered)
    assert found.returncode == 1  # the bad template
    assert found.stderr.count("collector says hello") == 1  # (stdout is the report's)
    report = json.loads(found.stdout)
    assert len(report["dashboards"]) == 8


def test_a_freeze_made_by_the_caller_is_left_alone(tmp_path: Path) -> None:
    """The workers share what the build froze; a library caller's own freeze stays."""
    import gc

    root = _project(tmp_path / "p")
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        _build(root, 2, 0)
        assert gc.get_freeze_count() >= 0.99 * frozen  # objects may die, none is given back
    finally:
        gc.unfreeze()
    _build(root, 2, 1)
    assert gc.get_freeze_count() == 0  # the build's own freeze is given back


def _children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid`` (read from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()  # after "pid (comm)": state, ppid, …
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_workers_die_with_the_build(tmp_path: Path) -> None:
    """kill -9 of the build while its workers draw: the workers go too (they would draw
    forever here), and the next build runs (nothing holds the lock)."""
    import subprocess
    import sys
    import time

    endless = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    root = write_project(tmp_path, {f"s{n}": simple(f"S{n}") for n in range(2)})
    for n in range(2):
        (root / "dashboards" / f"s{n}" / "template.html").write_text(endless)
    build = subprocess.Popen(
        [sys.executable, "-m", "dashsite", "-C", str(root), "build", "--jobs", "2", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while len(workers) < 2 and time.monotonic() < deadline:  # collection first, then forks
        workers = _children(build.pid)
        time.sleep(0.05)
    assert len(workers) == 2, "the build never started its workers"
    build.kill()
    build.wait()
    deadline = time.monotonic() + 30
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    outlived = [w for w in workers if _alive(w)]
    for worker in outlived:  # they would draw forever
        os.kill(worker, signal.SIGKILL)
    assert not outlived, "a worker outlived the build"
    for n in range(2):
        (root / "dashboards" / f"s{n}" / "template.html").write_text("<p>{{ count }}</p>")
    again = cli(root, "build", "--jobs", "2", "--lock-timeout", "30")
    assert again.returncode == 0, again.stderr
    assert_site_whole(root / "site")


def test_the_report_lists_dashboards_in_the_same_order(tmp_path: Path) -> None:
    """A dashboard added later sorts first: the report keeps the build's order either way."""
    one, many = _project(tmp_path / "one"), _project(tmp_path / "two")
    _build(one, 1, 0)
    _build(many, 3, 0)
    for root in (one, many):
        write_project(root, {"aaa-new": simple("New"), "aab-broken": BAD_TEMPLATE})
    serial, _ = _build(one, 1, 1)
    parallel, _ = _build(many, 3, 1)
    assert [d.slug for d in parallel.dashboards] == [d.slug for d in serial.dashboards]
    assert [p.one_line() for p in parallel.problems] == [p.one_line() for p in serial.problems]
    assert _files(many / "site") == _files(one / "site")


def test_a_disk_error_in_a_worker_is_the_clis_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError in a worker (the disk full while it writes) comes back as the OSError, so
    the CLI says what it says for it in one process; a bug is an internal error (exit 70)."""
    import errno

    from dashsite.site import build as build_module

    root = _project(tmp_path / "p")
    real = build_module.SiteBuilder._part

    def full(self, filing, writer, opened, pending, moment, slugs):  # type: ignore[no-untyped-def]
        if "svc-4" in slugs:
            raise OSError(errno.ENOSPC, "No space left on device", str(root / "site" / "x"))
        return real(self, filing, writer, opened, pending, moment, slugs)

    monkeypatch.setattr(build_module.SiteBuilder, "_part", full)
    found = cli(root, "build", "--jobs", "2")
    assert found.returncode == 1
    last = found.stderr.strip().splitlines()[-1]
    assert last.endswith("No space left on device — the disk is full: free some space and run "
                         "again (the site is as it was)"), last
    assert "Traceback" not in found.stderr

    def bug(self, filing, writer, opened, pending, moment, slugs):  # type: ignore[no-untyped-def]
        raise KeyError("oops")

    monkeypatch.setattr(build_module.SiteBuilder, "_part", bug)
    found = cli(root, "build", "--jobs", "2")
    assert found.returncode == 70
    assert "internal error" in found.stderr and "KeyError: 'oops'" in found.stderr
    assert "Traceback" not in found.stderr


def test_an_error_that_cannot_be_sent_is_still_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error carrying something no pickle takes (a lock) still reaches the build."""
    import threading

    from dashsite.core.errors import SiteError
    from dashsite.site import build as build_module

    root = _project(tmp_path / "p")

    def odd(self, filing, writer, opened, pending, moment, slugs):  # type: ignore[no-untyped-def]
        error = SiteError("odd failure")
        error.lock = threading.Lock()  # type: ignore[attr-defined]
        raise error

    monkeypatch.setattr(build_module.SiteBuilder, "_part", odd)
    found = cli(root, "build", "--jobs", "2")
    assert found.returncode == 70
    assert "cannot send error" in found.stderr and "Traceback" not in found.stderr


def test_with_another_thread_running_the_build_does_not_fork(tmp_path: Path) -> None:
    """A collector past its timeout keeps its thread: a worker would copy its locks. The
    build says so and runs in one process."""
    root = _project(tmp_path / "p")
    (root / "dashboards" / "svc-0" / "dashboard.py").write_text(
        "import time\nfrom dashsite import collector\nTITLE = 'Slow'\n\n"
        "@collector(timeout=0.2)\ndef count():\n    time.sleep(3)\n    return 1\n"
    )
    result, events = _build(root, 3, 0)
    notices = [e.message for e in events.events if e.kind == "notice"]
    assert any("building in one process" in m and "dashsite-collector" in m for m in notices)
    assert any(d.slug == "svc-0" and d.errors for d in result.dashboards)
    assert_site_whole(root / "site")


def test_pickled_errors_and_bars_come_back_whole() -> None:
    import pickle

    from dashsite.core.errors import CollectorError, ConfigError
    from dashsite.status.model import State
    from dashsite.status.view import DayBar

    error = CollectorError("count", ValueError("bad"))
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is CollectorError and back.one_line() == error.one_line()
    assert back.name == "count" and str(back.cause) == "bad"
    config = ConfigError("no such key", path="dashsite.toml", line=3, hint="remove it")
    again = pickle.loads(pickle.dumps(config))
    assert (again.path, again.line, again.hint, again.lines()) == (
        "dashsite.toml", 3, "remove it", config.lines()
    )
    bar = DayBar("2026-11-27", State.DOWN, 12, 0.5, "2026-11.html",
                 {State.DOWN: 60.0, State.NODATA: 7200.0})  # fmt: skip
    copy = pickle.loads(pickle.dumps(bar))
    assert copy == bar and (copy.shown, copy.partial, copy.label) == (
        bar.shown, bar.partial, bar.label
    )


def test_a_containers_cpu_quota_caps_the_workers(tmp_path: Path) -> None:
    quota = tmp_path / "cpu.max"
    quota.write_text("150000 100000\n")  # docker --cpus=1.5
    assert cpu_count(quota) == min(2, cpu_count(tmp_path / "none"))
    quota.write_text("max 100000\n")
    assert cpu_count(quota) == cpu_count(tmp_path / "none") >= 1
    quota.write_text("garbage")
    assert cpu_count(quota) == cpu_count(tmp_path / "none")
    quota.write_text("50000 100000\n")  # half a CPU: still one process
    assert cpu_count(quota) == 1


_FINGERPRINT = re.compile(rb'"fingerprint": ?"[0-9a-f]+"')  # sealed over shard sizes (durations)

TOGGLING = {
    "dashboard.py": """
        from pathlib import Path

        from dashsite import StatusCell, StatusLevel, collector

        TITLE = "Toggling"
        DOWN = Path(__file__).parent / "down"

        @collector
        def status():
            if DOWN.exists():
                return StatusCell("DOWN", StatusLevel.ERROR)
            return StatusCell("UP", StatusLevel.OK)
    """,
    "template.html": "{{ status | render }}",
}


def test_workers_match_one_process_over_days_months_and_incidents(tmp_path: Path) -> None:
    """Builds 17 hours apart over two months, a dashboard going down and up: settled days,
    month status files, digests, incidents, feeds, months pages; the same from workers."""
    sites = {}
    for name in ("one", "two"):  # no retention: the history stays
        dashboards = {f"tog-{n}": TOGGLING for n in range(3)} | {"svc": simple("Svc")}
        sites[name] = write_project(tmp_path / name, dashboards, config='title = "Jobs"\n')
        layouts = sites[name] / "dashboards" / "_layouts"  # an index that reads months: in
        layouts.mkdir()  # the build, through the views the workers handed over
        (layouts / "index.html").write_text(
            '{% for d in active %}<p id="m-{{ d.slug }}">{{ d.timeline.month_bars("2026-11")'
            ' | length }} days, {{ d.timeline.month_incidents("2026-11") | length }}</p>'
            "{% endfor %}"
        )
    for n in range(8):
        moment = T0 + timedelta(hours=17 * n)
        for name, jobs in (("one", 1), ("two", 3)):
            root = sites[name]
            for d in range(3):
                down = root / "dashboards" / f"tog-{d}" / "down"
                if n % (d + 2) == 1:
                    down.touch()
                else:
                    down.unlink(missing_ok=True)
            options = BuildOptions(version_id=f"v{n}", clock=fixed_clock(moment), jobs=jobs)
            build_site(load_config(root), options, RecordingReporter())
        one = {k: _FINGERPRINT.sub(b"-", v) for k, v in _files(sites["one"] / "site").items()}
        two = {k: _FINGERPRINT.sub(b"-", v) for k, v in _files(sites["two"] / "site").items()}
        # A month status file is a cache: the build, reading months for a layout through the
        # views it took over, may write one that one process held only in memory (computed
        # before the day was settled). Every file both have is the same; every page too.
        extra = {k for k in set(one) ^ set(two) if not k.endswith("/status.json")}
        assert extra == set(), f"build {n}"
        assert {k: one[k] for k in set(one) & set(two)} == {
            k: two[k] for k in set(one) & set(two)
        }, f"build {n}"
    assert any(k.endswith("status.json") for k in one)  # settled months
    assert b'<p id="m-tog-0">4 days, 2</p>' in one["index.html"], one["index.html"][:300]
    assert all(b'class="incident-list"' in one[f"tog-{d}/index.html"] for d in range(3))


def test_jobs_beyond_four_a_cpu_are_four_a_cpu_with_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashsite.site import workers

    monkeypatch.setattr(workers, "cpu_count", lambda: 1)
    root = write_project(tmp_path, {f"svc-{n}": simple(f"Service {n}") for n in range(6)})
    reporter = RecordingReporter()
    options = BuildOptions(version_id="v1", clock=fixed_clock(T0), jobs=100)
    result = build_site(load_config(root), options, reporter)
    notices = [e.message for e in reporter.events if e.kind == "notice"]
    assert notices == [
        "--jobs 100: building in 4 processes, 4 for each of the 1 CPU(s): each process is a "
        "copy of the build, and more only share the same CPUs"
    ]
    assert not result.problems and len(logged_versions(root / "site")) == 6


def test_the_parent_lets_go_of_what_only_the_workers_need_once_all_are_forked() -> None:
    """The build empties its collected data once every worker is forked (``started``):
    each worker still files from its own copy, and the parent takes their results over
    into the memory it freed."""
    data = list(range(10))
    seen: list[int] = []

    def started() -> None:
        seen.append(len(data))
        data.clear()

    found = run_blocks([["a"], ["b"], ["c"]], lambda part, _: (list(part), len(data)),
                       RecordingReporter(), started=started)
    assert found == [(["a"], 10), (["b"], 10), (["c"], 10)]
    assert seen == [10] and data == []
