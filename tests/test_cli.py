from __future__ import annotations

import json
from pathlib import Path

from projects import cli, simple, write_project

from htmltree import parse


def test_new_scaffolds_a_dashboard_that_builds(tmp_path: Path) -> None:
    made = cli(tmp_path, "new", "service-health")
    assert made.returncode == 0, made.stderr
    assert "created dashboards/service-health/" in made.stdout
    made_md = cli(tmp_path, "new", "weekly", "--markdown")
    assert made_md.returncode == 0
    assert (tmp_path / "dashboards" / "weekly" / "template.md").is_file()
    built = cli(tmp_path, "build", "--strict")
    assert built.returncode == 0, built.stderr
    page = parse((tmp_path / "site" / "service-health" / "index.html").read_text())
    assert page.find("div", class_="monitor-metric").find("span", class_="metric-label").text() \
        == "Disk used"
    assert page.find("h1").text().startswith("Service health")
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text())
    assert [d["slug"] for d in manifest["dashboards"]] == ["service-health", "weekly"]


def test_new_refuses_bad_or_existing_names(tmp_path: Path) -> None:
    bad = cli(tmp_path, "new", "../escape")
    assert bad.returncode == 1 and "not a usable dashboard name" in bad.stderr
    assert not (tmp_path.parent / "escape").exists()
    assert cli(tmp_path, "new", "ok").returncode == 0
    again = cli(tmp_path, "new", "ok")
    assert again.returncode == 1
    assert again.stderr.strip().startswith("dashboards/ok: already exists")


def test_list_shows_dashboards_and_versions(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": simple("Alpha")})
    cli(tmp_path, "build")
    listed = cli(tmp_path, "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == ["alpha\tAlpha\thtml\tstatus, count\t1 version(s)"]


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    done = cli(tmp_path, "frobnicate")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "invalid choice" in done.stderr


def test_empty_project_builds_an_empty_index(tmp_path: Path) -> None:
    (tmp_path / "dashboards").mkdir()  # without it: an error (tests/test_no_loss.py)
    done = cli(tmp_path, "build")
    assert done.returncode == 0
    index = parse((tmp_path / "site" / "index.html").read_text())
    assert "dashsite new" in index.find("main").text()


def test_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    """``--port 99999`` used to serve on a random port, silently."""
    write_project(tmp_path, {"a": simple()})
    for port in ("99999", "-1", "http"):
        found = cli(tmp_path, "serve", "--port", port, timeout=30)
        assert found.returncode == 2, port
        assert "--port" in found.stderr and "0 to 65535" in found.stderr
        assert "Traceback" not in found.stderr


def test_a_reader_that_stops_early_is_not_an_error_line(tmp_path: Path) -> None:
    """``dashsite list | head -1``: the rest of the output has nowhere to go; the command
    stops quietly, as one stopped by SIGPIPE, with no 'Broken pipe' line."""
    import os
    import subprocess
    import sys

    write_project(tmp_path, {f"d{n:02d}": simple(f"D{n}") for n in range(3)})
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    try:
        done = subprocess.run([sys.executable, "-m", "dashsite", "-C", str(tmp_path), "list"],
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
                              check=False)  # fmt: skip
    finally:
        os.close(write)
    assert done.returncode == 141
    assert done.stderr == ""
