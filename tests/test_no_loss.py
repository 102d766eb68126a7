"""Never lose a file, never write outside the site (hardening, section 3)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from projects import cli, simple, tree_digest, write_project


@pytest.mark.parametrize("site_dir", [".", "", "..", "dashboards", "dashboards/out", ".git/x"])
def test_a_site_folder_over_the_project_is_refused(tmp_path: Path, site_dir: str) -> None:
    project = tmp_path / "project"
    write_project(project, {"svc": simple()}, config=f'site_dir = "{site_dir}"\n')
    (project / "notes.txt").write_text("mine")
    before = tree_digest(tmp_path)
    for command in (["build"], ["publish", "s3://bucket/x", "--dry-run"]):
        done = cli(project, *command)
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("dashsite.toml: 'site_dir'"), lines[0]
        assert "site_dir = \"site\"" in lines[0]
    assert tree_digest(tmp_path) == before


def test_a_site_that_holds_the_dashboards_folder_is_refused(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()},
                  config='site_dir = "out"\ndashboards_dir = "out/dashboards"\n')
    (tmp_path / "out").mkdir()
    (tmp_path / "dashboards").rename(tmp_path / "out" / "dashboards")
    done = cli(tmp_path, "build")
    assert done.returncode == 1 and "overlap" in done.stderr


def test_a_missing_dashboards_folder_is_an_error_not_an_empty_site(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()})
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    before = tree_digest(tmp_path / "site")
    (tmp_path / "dashsite.toml").write_text('dashboards_dir = "dashbords"\n')
    done = cli(tmp_path, "build", "--version-id", "v2")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "dashsite.toml: no dashboards folder 'dashbords' — create it with 'dashsite new SLUG', "
        "or fix dashboards_dir (a build without it would archive every dashboard)"
    ]
    assert tree_digest(tmp_path / "site") == before


def test_a_missing_project_folder_is_an_error(tmp_path: Path) -> None:
    done = cli(tmp_path / "nowhere", "build")
    assert done.returncode == 1
    assert done.stderr.strip().endswith("nowhere: the project folder does not exist — "
                                        "check the -C argument")


def test_a_build_leaves_nothing_for_git_status_but_the_site(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    write_project(tmp_path, {"svc": simple()})
    (tmp_path / ".gitignore").write_text("/site/\n")
    assert cli(tmp_path, "build").returncode == 0
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    listed = {line[3:] for line in status.splitlines()}
    assert listed == {".gitignore", "dashboards/svc/dashboard.py", "dashboards/svc/template.html"}
