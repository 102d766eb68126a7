"""Settings and paths that would turn into code or clobber files are refused in one line
(issue 22, B8 and C)."""

from __future__ import annotations

from pathlib import Path

import pytest

from projects import cli, simple, write_project


@pytest.mark.parametrize("url", [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)//https://x.example/",
    " javascript:alert(1)",
    "java\\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:x",
    "ftp://files.example.org/",
    "file:///etc/",
    "//evil.example/",
    "status.example.org",
    "https://",
    "https:///path",
    "http://exa mple.org/",
    "https://ok.example/\\n<x>",
    "https://[::1/",
    "javascript:" + "a" * 500,
])
def test_base_url_must_be_an_http_url(tmp_path: Path, url: str) -> None:
    write_project(tmp_path, {"svc": simple()}, config=f'base_url = "{url}"\n')
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("dashsite.toml: 'base_url' must be an http(s) URL"), lines
    assert len(lines[0]) < 300
    assert not (tmp_path / "site").exists()


def test_base_url_in_pyproject_is_named_there(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()})
    (tmp_path / "pyproject.toml").write_text('[tool.dashsite]\nbase_url = "javascript:x"\n')
    done = cli(tmp_path, "build")
    assert done.returncode == 1
    assert done.stderr.startswith("pyproject.toml [tool.dashsite]: 'base_url' must be an http(s)")


@pytest.mark.parametrize("url", ["", "https://status.example.org/ops/", "http://127.0.0.1:8000",
                                 "HTTPS://Status.Example.org"])
def test_an_http_base_url_is_fine(tmp_path: Path, url: str) -> None:
    write_project(tmp_path, {"svc": simple()}, config=f'base_url = "{url}"\n')
    done = cli(tmp_path, "build", "--version-id", "v1")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("command", [["build"], ["list"], ["new", "x"], ["publish", "gh-pages"]])
def test_dash_c_naming_a_file_says_it_is_not_a_folder(tmp_path: Path, command: list[str]) -> None:
    write_project(tmp_path, {"svc": simple()})
    target = tmp_path / "dashsite.toml"
    target.write_text('title = "x"\n')
    done = cli(target, *command)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{target}: is a file, not a folder"), lines
    assert "does not exist" not in lines[0]
    assert str(tmp_path) in lines[0]  # the folder to use instead


def test_dash_c_naming_nothing_still_says_it_does_not_exist(tmp_path: Path) -> None:
    done = cli(tmp_path / "nowhere", "build")
    assert done.returncode == 1
    assert "the project folder does not exist" in done.stderr


LONG_VALUES = """
from dashsite import collector

@collector
def loop():
    x = []
    x.append(x)
    return x

@collector
def mapping():
    x = {}
    x["k" * 50] = x
    return x

@collector
def huge_key():
    return {"k" * 5000: object()}

@collector
def chatty():
    raise RuntimeError("boom " * 400)

@collector
def fine():
    return 1
"""


def test_a_problem_line_stays_short(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": {"dashboard.py": LONG_VALUES,
                                     "template.html": "<p>{{ fine }}</p>"}})
    done = cli(tmp_path, "build", "--version-id", "v1")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert all(len(line) <= 300 for line in lines), [len(line) for line in lines]
    said = {name: [line for line in lines if f"collector '{name}'" in line]
            for name in ("loop", "mapping", "huge_key", "chatty")}
    assert all(len(found) == 1 for found in said.values()), said
    assert said["loop"][0].startswith("dashboards/svc/dashboard.py:")
    assert "loop[0][0]" in said["loop"][0] and "(or circular)" in said["loop"][0]
    assert said["loop"][0].endswith("— return dicts, lists, strings, numbers or dashsite render types")
    assert "RuntimeError: boom boom" in said["chatty"][0] and "…" in said["chatty"][0]


HOSTILE_ERRORS = """
from dashsite import collector

@collector
def megabyte():
    raise RuntimeError("x" * 1_000_000)

@collector
def surrogate():
    raise RuntimeError("bad \\ud800 text")

@collector
def fine():
    return 1
"""


def test_a_huge_or_broken_error_fails_its_collector_not_the_build(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": {"dashboard.py": HOSTILE_ERRORS,
                                     "template.html": "<p>{{ fine }}</p>"}})
    done = cli(tmp_path, "build", "--version-id", "v1")
    assert done.returncode == 0, done.stderr  # collector failures: the site is built
    lines = done.stderr.strip().splitlines()
    assert all(len(line) <= 300 for line in lines)
    assert any("collector 'surrogate' failed: RuntimeError: bad \\ud800 text" in line
               for line in lines), lines
    data = next((tmp_path / "site" / "svc").rglob("data.json")).read_text()
    assert len(data) < 10_000


OWN_PAGE = "<!doctype html><title>mine</title><p>my own page</p>\n"


@pytest.mark.parametrize("site_dir", ["www", "docs/out"])
def test_a_build_never_overwrites_a_folder_that_is_not_a_dashsite_site(
        tmp_path: Path, site_dir: str) -> None:
    write_project(tmp_path, {"svc": simple()}, config=f'site_dir = "{site_dir}"\n')
    site = tmp_path / site_dir
    site.mkdir(parents=True)
    (site / "index.html").write_text(OWN_PAGE)
    (site / "notes.txt").write_text("keep")
    done = cli(tmp_path, "build", "--version-id", "v1")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{site_dir}: is not empty and is not a dashsite site "
                               "(it holds index.html, notes.txt)"), lines
    assert "--force" in lines[0]
    assert (site / "index.html").read_text() == OWN_PAGE
    assert sorted(p.name for p in site.iterdir()) == ["index.html", "notes.txt"]
    done = cli(tmp_path, "build", "--version-id", "v1", "--force")
    assert done.returncode == 0, done.stderr
    assert (site / "manifest.json").is_file()
    assert (site / "notes.txt").read_text() == "keep"
    done = cli(tmp_path, "build", "--version-id", "v2")  # a dashsite site now
    assert done.returncode == 0, done.stderr


def test_a_build_goes_ahead_in_an_empty_folder_or_its_own_site(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()})
    (tmp_path / "site" / ".git").mkdir(parents=True)  # a gh-pages checkout, say
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    assert cli(tmp_path, "build", "--version-id", "v2").returncode == 0


def test_a_first_build_killed_before_its_manifest_still_finishes(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()})
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    (tmp_path / "site" / "manifest.json").unlink()  # as if killed before writing it
    done = cli(tmp_path, "build", "--version-id", "v2")
    assert done.returncode == 0, done.stderr
