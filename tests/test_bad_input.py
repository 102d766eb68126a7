"""Every kind of bad input: one line naming path[:line], exit 1, the rest still built."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from projects import (
    cli,
    logged_checks,
    logged_versions,
    manifest_entries,
    simple,
    tree_digest,
    vdir,
    write_project,
)

GOOD_MODULE = "from dashsite import collector\n\n@collector\ndef value():\n    return 1\n"

CASES = {
    "bad-slug": (
        "Bad Name",
        {"dashboard.py": GOOD_MODULE, "template.html": "{{ value }}"},
        r"^dashboards/Bad Name: 'Bad Name' is not a usable dashboard name — rename",
    ),
    "syntax-error": (
        "broken",
        {"dashboard.py": "from dashsite import collector\n\ndef oops(:\n    pass\n",
         "template.html": "x"},
        r"^dashboards/broken/dashboard.py:3: syntax error: .* — fix the Python syntax$",
    ),
    "import-error": (
        "broken",
        {"dashboard.py": "import os\nimport no_such_module_here\n", "template.html": "x"},
        r"^dashboards/broken/dashboard.py:2: import error while loading: "
        r"No module named 'no_such_module_here' — ",
    ),
    "no-template": (
        "broken",
        {"dashboard.py": GOOD_MODULE},
        r"^dashboards/broken: no template — add template.html or template.md",
    ),
    "template-syntax": (
        "broken",
        {"dashboard.py": GOOD_MODULE, "template.html": "ok\n\n{% for x in %}\n"},
        r"^dashboards/broken/template.html:3: template syntax error: .* — fix",
    ),
    "unknown-filter": (
        "broken",
        {"dashboard.py": GOOD_MODULE, "template.html": "line\n{{ value | rendr }}\n"},
        r"^dashboards/broken/template.html:2: unknown filter 'rendr' — check the filter",
    ),
    "undefined-variable": (
        "broken",
        {"dashboard.py": GOOD_MODULE, "template.html": "a\nb\n{{ valeu }}\n"},
        r"^dashboards/broken/template.html:3: 'valeu' is undefined — ",
    ),
    "undefined-in-markdown": (
        "broken",
        {"dashboard.py": GOOD_MODULE, "template.md": "# Title\n\n{{ value.missing.deeper }}\n"},
        r"^dashboards/broken/template.md:3: 'int object' has no attribute 'missing'",
    ),
    "unstorable-value": (
        "broken",
        {"dashboard.py": "from dashsite import collector\n\n\n@collector\ndef thing():\n"
                         "    return object()\n", "template.html": "{{ thing }}"},
        r"^dashboards/broken/dashboard.py:4: collector 'thing' returned a value that "
        r"cannot be stored as JSON .* — return dicts",
    ),
    "render-type-misused": (  # kstlib's MonitorTable(headers, title=""): rows passed second
        "broken",
        {"dashboard.py": "from dashsite import MonitorTable, collector\n\n\n@collector\n"
                         "def table():\n    rows = [['api', 'up']]\n"
                         "    return MonitorTable(['Service', 'State'], rows)\n",
         "template.html": "{{ table | render }}"},
        r"^dashboards/broken/dashboard.py:7: collector 'table' failed: MonitorTable title "
        r"must be text, not list — MonitorTable\(headers, title=''\): rows go in",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_spares_the_rest(tmp_path: Path, case: str) -> None:
    folder, files, pattern = CASES[case]
    write_project(tmp_path, {"good": simple("Good")})
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    before = tree_digest(tmp_path / "site")
    write_project(tmp_path, {folder: files})

    done = cli(tmp_path, "build", "--version-id", "v2")

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    problems = [line for line in done.stderr.splitlines() if line.startswith("dashboards/")]
    assert len(problems) == 1, done.stderr
    assert re.search(pattern, problems[0]), problems[0]
    site = tmp_path / "site"
    for path, digest in before.items():  # every earlier version stays as it was
        if "/v1/" in path:  # <slug>/<day>/v1/…
            assert tree_digest(site)[path] == digest
    manifest = json.loads((site / "manifest.json").read_text())
    versions = logged_versions(site)
    assert versions["good"] == ["v1"]  # built again, its data unchanged: a check of v1
    assert logged_checks(site)["good"] == [("v2", "v1")]
    if case in ("unstorable-value", "render-type-misused"):  # the collector failed: filed
        assert versions[folder] == ["v2"]
        assert {d["slug"]: d["status"] for d in manifest["dashboards"]}[folder] == "error"
        data = json.loads(next((site / folder).glob("*/v2/data.json")).read_text())
        name = next(iter(data["collectors"]))
        assert name in data["errors"] and data["collectors"][name]["ok"] is False
        assert "dashsite:" not in data["errors"][name]
    else:
        assert versions.get(folder, []) == []


def test_broken_dashboard_keeps_its_published_versions(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()})
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    latest = (tmp_path / "site" / "svc" / "index.html").read_bytes()
    good = (tmp_path / "dashboards" / "svc" / "template.html").read_text()
    (tmp_path / "dashboards" / "svc" / "template.html").write_text("{{ oops }")
    done = cli(tmp_path, "build", "--version-id", "v2")
    assert done.returncode == 1
    assert (tmp_path / "site" / "svc" / "index.html").read_bytes() == latest
    assert (vdir(tmp_path / "site", "svc", "v1") / "index.html").is_file()
    assert not vdir(tmp_path / "site", "svc", "v2").exists()
    # The manifest says so too, beside the latest version's own (ok) status, until a
    # build files one again.
    entry = manifest_entries(tmp_path / "site")["svc"]
    assert entry["status"] == "ok" and entry["latest"]["id"] == "v1"
    assert entry["problem"].startswith("dashboards/svc/template.html:1: ")
    (tmp_path / "dashboards" / "svc" / "template.html").write_text(good)
    assert cli(tmp_path, "build", "--version-id", "v3").returncode == 0
    assert "problem" not in manifest_entries(tmp_path / "site")["svc"]


def test_a_dashboard_removed_while_broken_is_archived_without_its_problem(
    tmp_path: Path,
) -> None:
    write_project(tmp_path, {"svc": simple(), "other": simple()})
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    (tmp_path / "dashboards" / "svc" / "template.html").write_text("{{ oops }")
    assert cli(tmp_path, "build", "--version-id", "v2").returncode == 1
    assert manifest_entries(tmp_path / "site")["svc"]["problem"]
    shutil.rmtree(tmp_path / "dashboards" / "svc")  # removed: nothing left to fix
    assert cli(tmp_path, "build", "--version-id", "v3").returncode == 0
    entry = manifest_entries(tmp_path / "site")["svc"]
    assert entry["active"] is False and "problem" not in entry


def test_config_problems_are_all_reported_then_the_command_stops(tmp_path: Path) -> None:
    write_project(tmp_path, {"good": simple()},
                  config='titel = "x"\ntimeout = "soon"\nretention = 0\nconcurrency = 4\n')
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    # The guess alone (the whole list, after it, was cut in its middle at 300 characters)
    assert lines[0] == "dashsite.toml: unknown key 'titel' — did you mean 'title'?"
    assert lines[1:] == [
        "dashsite.toml: 'timeout' must be a number of seconds, not str 'soon'",
        "dashsite.toml: 'retention' must be at least 1 (omit it to keep all)",
    ]
    assert not (tmp_path / "site").exists()
    (tmp_path / "dashsite.toml").write_text('colour = "blue"\n')  # no guess: every key, whole
    said = cli(tmp_path, "build").stderr.strip().splitlines()[0]
    assert said.startswith("dashsite.toml: unknown key 'colour' — known keys: allow_secret_env ")
    assert "…" not in said and said.endswith(" title unchanged workers")


def test_config_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    write_project(tmp_path, {"good": simple()}, config='title = "x"\nretention = \n')
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    assert re.match(r"dashsite.toml:2: not valid TOML", done.stderr)


def test_pyproject_section_is_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"good": simple()})
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.dashsite]\ntitle = "Ops"\nsite_dir = "public"\n'
    )
    assert cli(tmp_path, "build").returncode == 0
    assert json.loads((tmp_path / "public" / "manifest.json").read_text())["title"] == "Ops"
    (tmp_path / "pyproject.toml").write_text('[tool.dashsite]\nsite_dirr = "public"\n')
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    assert "pyproject.toml [tool.dashsite]: unknown key 'site_dirr'" in done.stderr


def test_json_report_names_the_broken_dashboard(tmp_path: Path) -> None:
    write_project(tmp_path, {"good": simple("Good"), "broken": {
        "dashboard.py": "def oops(:\n", "template.html": "x"}})
    done = cli(tmp_path, "build", "--json", "--version-id", "v1")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    by_slug = {d["slug"]: d for d in report["dashboards"]}
    assert by_slug["good"]["version"] == "v1" and by_slug["good"]["problem"] is None
    assert by_slug["broken"]["version"] is None
    assert by_slug["broken"]["problem"].startswith("dashboards/broken/dashboard.py:1: syntax error")
    assert report["problems"] == [by_slug["broken"]["problem"]]


def test_the_settings_page_lists_every_setting_as_declared() -> None:
    import os
    import re

    from dashsite.core.config import options_table

    readme = Path(__file__).parents[1] / "docs" / "reference" / "settings.md"
    text = readme.read_text()
    found = re.search(r"<!-- settings:start -->\n(.*?)<!-- settings:end -->", text, re.S)
    assert found is not None
    if os.environ.get("DASHSITE_REGENERATE"):
        readme.write_text(text.replace(found.group(1), options_table()))
        return
    assert found.group(1) == options_table()


def test_a_runaway_template_is_stopped_not_filed(tmp_path: Path, monkeypatch) -> None:
    from dashsite.render import pages
    from projects import build

    monkeypatch.setattr(pages, "MAX_BODY", 10_000)
    write_project(tmp_path, {"good": simple("Good"), "loop": {
        "dashboard.py": GOOD_MODULE,
        "template.html": "<p>start</p>\n{% for i in range(10**9) %}x{% endfor %}\n",
    }})
    result = build(tmp_path, version_id="v1")
    lines = [p.one_line() for p in result.problems]
    assert lines == ["dashboards/loop/template.html: renders more than 10,000 characters "
                     "— a loop repeats more than a page can show: limit it"], lines
    versions = logged_versions(tmp_path / "site")
    assert versions["good"] == ["v1"] and versions.get("loop", []) == []
