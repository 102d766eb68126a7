from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dashsite.collection.discover import discover, load_dashboard, title_from_slug
from dashsite.core.errors import DashboardError
from dashsite.core.names import DASHBOARD_PACKAGE
from projects import simple, write_project


def test_underscore_and_dot_folders_are_not_dashboards(tmp_path: Path) -> None:
    files = {"dashboard.py": "", "template.html": "x"}
    write_project(tmp_path, {"real": files, "_layouts": files, ".hidden": files, "_draft": files})
    (tmp_path / "dashboards" / "empty").mkdir()
    found = discover(tmp_path / "dashboards")
    assert [d.slug for d in found.dashboards] == ["real"]
    assert found.problems == ()


def test_metadata_and_both_kinds_of_collector(tmp_path: Path) -> None:
    module = """
    from dashsite import collector

    TITLE = "Service health"
    DESCRIPTION = "API and queue"

    @collector
    def disk():
        return 1

    @collector(name="api", timeout=5, retries=2)
    async def api_status():
        return 2

    COLLECTORS = {"queue": lambda: 3}
    """
    write_project(tmp_path, {"svc": {"dashboard.py": module, "template.md": "x"}})
    (dashboard,) = discover(tmp_path / "dashboards").dashboards
    assert (dashboard.title, dashboard.description) == ("Service health", "API and queue")
    assert [c.name for c in dashboard.collectors] == ["disk", "api", "queue"]
    api = dashboard.collectors[1]
    assert (api.timeout, api.retries, api.is_async) == (5, 2, True)
    assert dashboard.is_markdown


def test_title_defaults_from_the_slug(tmp_path: Path) -> None:
    assert title_from_slug("service-health") == "Service health"
    write_project(tmp_path, {"weekly_report": {"template.html": "x"}})
    (dashboard,) = discover(tmp_path / "dashboards").dashboards
    assert dashboard.title == "Weekly report" and dashboard.collectors == ()


def test_helper_modules_are_isolated_per_dashboard(tmp_path: Path) -> None:
    for slug, value in (("one", 1), ("two", 2)):
        write_project(tmp_path, {slug: {
            "helpers.py": f"VALUE = {value}\n",
            "dashboard.py": "import helpers\nfrom . import helpers as rel\n"
                            "COLLECTORS = {'v': lambda: (helpers.VALUE, rel.VALUE)}\n",
            "template.html": "{{ v }}",
        }})
    modules_before = set(sys.modules)
    found = discover(tmp_path / "dashboards")
    values = {d.slug: d.collectors[0].func() for d in found.dashboards}
    assert values == {"one": (1, 1), "two": (2, 2)}
    assert "helpers" not in sys.modules
    left = {m for m in set(sys.modules) - modules_before if "dashboards" in m}
    assert left <= {DASHBOARD_PACKAGE}  # (the package they are loaded under, made once)
    assert str(tmp_path / "dashboards" / "one") not in sys.path


def test_an_error_in_a_helper_module_names_the_helper_and_its_line(tmp_path: Path) -> None:
    write_project(tmp_path, {"web": {
        "helpers.py": "A = 1\n\n\nB = undefined_name\n",
        "dashboard.py": "from pathlib import Path\n\nimport helpers\n"
                        "COLLECTORS = {'v': lambda: helpers.A}\n",
        "template.html": "{{ v }}",
    }})
    found = discover(tmp_path / "dashboards", root=tmp_path)
    (problem,) = found.problems
    assert problem.one_line().startswith(
        "dashboards/web/helpers.py:4: NameError while loading (imported by dashboard.py:3): "
        "name 'undefined_name' is not defined"), problem.one_line()


@pytest.mark.parametrize("slug", ["Bad Name", "UPPER", "assets", "history", "incidents", "schemas", "dashsite", "-dash", "a" * 70])
def test_unsafe_slugs_are_refused(tmp_path: Path, slug: str) -> None:
    write_project(tmp_path, {slug: {"template.html": "x"}})
    found = discover(tmp_path / "dashboards", root=tmp_path)
    assert found.dashboards == ()
    (problem,) = found.problems
    assert problem.path == f"dashboards/{slug}"
    assert "not a usable dashboard name" in problem.message


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("COLLECTORS = {'build': lambda: 1}", "collector name 'build' would hide the template's own 'build'"),
        ("COLLECTORS = {'x': 5}", r"COLLECTORS\['x'\] is not callable"),
        ("COLLECTORS = [1]", "COLLECTORS must be a dict"),
        ("TITLE = 5", "TITLE must be a string"),
    ],
)
def test_bad_collector_tables(tmp_path: Path, module: str, message: str) -> None:
    write_project(tmp_path, {"d": {"dashboard.py": module, "template.html": "x"}})
    with pytest.raises(DashboardError, match=message):
        load_dashboard(tmp_path / "dashboards" / "d")


def test_both_templates_is_ambiguous(tmp_path: Path) -> None:
    write_project(tmp_path, {"d": {"template.html": "x", "template.md": "y"}})
    with pytest.raises(DashboardError, match=r"both template\.html and template\.md"):
        load_dashboard(tmp_path / "dashboards" / "d")


def test_runtime_error_while_importing_names_the_line(tmp_path: Path) -> None:
    write_project(tmp_path, {"d": {"dashboard.py": "x = 1\n\nraise RuntimeError('boom')\n",
                                   "template.html": "x"}})
    with pytest.raises(DashboardError) as info:
        load_dashboard(tmp_path / "dashboards" / "d", root=tmp_path)
    assert info.value.one_line().startswith("dashboards/d/dashboard.py:3: RuntimeError while")


def test_imports_run_on_one_worker_and_compile_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashsite.collection import bytecode, imports
    from dashsite.collection.discover import discover

    for slug in ("a", "b", "c", "d", "e"):
        write_project(tmp_path, {slug: simple(slug.upper())})
    worker = imports.ImportWorker()
    monkeypatch.setattr(imports, "WORKER", worker)
    monkeypatch.setattr(bytecode, "COUNTS", bytecode.CacheCounts())
    first = discover(tmp_path / "dashboards", root=tmp_path)
    assert [d.slug for d in first.dashboards] == ["a", "b", "c", "d", "e"]
    assert worker.started == 1  # one thread for five modules, not five
    assert bytecode.COUNTS.compiled == 5
    cache = tmp_path / ".dashsite" / "bytecode"
    assert sorted(p.name for p in cache.iterdir()) == ["clock", "modules.pack"]  # not five
    assert (tmp_path / ".dashsite" / ".gitignore").read_text().endswith("*\n")

    def no_compiling(*_: object, **__: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(bytecode, "compile", no_compiling, raising=False)
    again = discover(tmp_path / "dashboards", root=tmp_path)
    assert [d.title for d in again.dashboards] == ["A", "B", "C", "D", "E"]
    assert [c.name for c in again.dashboards[0].collectors] == ["status", "count"]
    assert bytecode.COUNTS.compiled == 5
    monkeypatch.setattr(bytecode, "compile", compile)
    (tmp_path / "dashboards" / "c" / "dashboard.py").write_text('TITLE = "Changed"\n')
    (tmp_path / "dashboards" / "c" / "template.html").write_text("<p>x</p>")
    changed = discover(tmp_path / "dashboards", root=tmp_path, only={"c"})
    assert changed.dashboards[0].title == "Changed"  # a new source, compiled anew
    assert bytecode.COUNTS.compiled == 6


def test_a_module_past_its_deadline_leaves_the_others_a_fresh_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashsite.collection import imports
    from dashsite.collection.discover import discover

    write_project(tmp_path, {"a": simple("A"), "z": simple("Z")})
    write_project(tmp_path, {"slow": {"dashboard.py": "import threading\nthreading.Event().wait(2)\n",
                                      "template.html": "<p>x</p>"}})
    worker = imports.ImportWorker()
    monkeypatch.setattr(imports, "WORKER", worker)
    found = discover(tmp_path / "dashboards", root=tmp_path, import_timeout=0.5)
    assert [d.slug for d in found.dashboards] == ["a", "z"]
    assert [p.slug for p in found.problems] == ["slow"]
    assert "still loading after 0.5 s" in found.problems[0].one_line()
    assert worker.started == 2  # the stuck one is left behind


def test_a_released_import_worker_ends_now_and_the_next_import_starts_one() -> None:
    import threading

    from dashsite.collection import imports

    worker = imports.ImportWorker()
    worker.IDLE = 60.0  # only the release can end it within the test
    before = set(threading.enumerate())
    ran: list[int] = []
    assert worker.run(lambda: ran.append(1), timeout=5)
    (thread,) = [t for t in threading.enumerate() if t not in before]
    assert thread.name == "dashsite-import"
    worker.release()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert worker.run(lambda: ran.append(2), timeout=5)
    assert ran == [1, 2] and worker.started == 2
    worker.release()


def test_the_template_is_read_with_its_newlines_made_plain(tmp_path: Path) -> None:
    write_project(tmp_path, {"d": {"template.html": "x"}})
    template = tmp_path / "dashboards" / "d" / "template.html"
    template.write_bytes("<p>é</p>\r\n<p>{{ 1 }}</p>\r<p>end</p>\n".encode())
    (dashboard,) = discover(tmp_path / "dashboards").dashboards
    assert dashboard.source == "<p>é</p>\n<p>{{ 1 }}</p>\n<p>end</p>\n"
    assert dashboard.source == template.read_text(encoding="utf-8")


def test_a_folder_is_never_asked_its_file_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashsite.collection import discover as discovery

    def no_formats(name: str) -> None:
        raise AssertionError(f"format of {name} asked")

    write_project(tmp_path, {"a": simple("A"), "b": {"template.html": "x"}})
    monkeypatch.setattr(discovery, "format_of", no_formats)
    found = discover(tmp_path / "dashboards", root=tmp_path)
    assert [d.slug for d in found.dashboards] == ["a", "b"]


def test_a_name_the_site_took_later_is_refused_for_a_new_dashboard_but_still_read() -> None:
    from dashsite.core.names import is_new_slug, is_slug

    assert is_slug("schemas") and not is_new_slug("schemas")  # an old site's history reads
    assert is_new_slug("service-health") and not is_new_slug("assets")


def test_yaml_dashboards_are_found_without_dashsites_package_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source checkout on PYTHONPATH has no entry points: its *.monitor.yml dashboards
    were silently archived."""
    from dashsite.collection import files

    monkeypatch.setattr(files, "load_group", lambda group: ())
    write_project(tmp_path, {"a": simple("A")})
    (tmp_path / "dashboards" / "svc.monitor.yml").write_text(
        "name: Svc\ntemplate: '<p>{{ v }}</p>'\ncollectors:\n  v: 1\n")
    found = discover(tmp_path / "dashboards", root=tmp_path)
    assert [d.slug for d in found.dashboards] == ["a", "svc"]
