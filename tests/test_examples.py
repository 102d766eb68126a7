"""The CI recipes in examples/ are valid workflows that call commands that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from dashsite.cli import parser

DOCS_WORKFLOW = Path(__file__).parents[1] / "examples" / "docs.yml"
EXAMPLES = sorted(set((Path(__file__).parents[1] / "examples").glob("*.yml")) - {DOCS_WORKFLOW})
MAKEFILE = (Path(__file__).parents[1] / "Makefile").read_text()


@pytest.mark.parametrize("workflow", EXAMPLES, ids=lambda p: p.name)
def test_workflow_is_valid_and_calls_real_commands(workflow: Path) -> None:
    document = yaml.safe_load(workflow.read_text())
    assert document["name"]
    assert True in document or "on" in document  # YAML 1.1 reads the key `on` as True
    triggers = document.get("on", document.get(True))
    assert "schedule" in triggers and triggers["schedule"][0]["cron"]
    steps = document["jobs"]["build"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    commands = [shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "X", run)) for run in runs]
    dashsite = [argv[1:] for argv in commands if argv[0].endswith("dashsite")]
    names = [argv[0] for argv in dashsite]
    assert names[:5] == ["pull", "build", "publish", "notify", "publish"]
    assert set(names[5:]) <= {"publish"}  # publish --verify, weekly
    for argv in dashsite:
        parser().parse_args([a if not a.startswith("$") else "s3://bucket/x" for a in argv])
    for argv in commands:
        if argv[0] == "make":
            assert re.search(rf"^{argv[1]}:", MAKEFILE, re.MULTILINE), argv
    pull = dashsite[0]
    assert pull[1] == dashsite[2][1] == dashsite[4][1]  # pulls from where it publishes
    # A user's repository has no Makefile of ours: dashsite comes from pip, with the
    # extras the workflow uses (notify's apprise; S3's boto3).
    installs = [argv for argv in commands if argv[:4] == ["python", "-m", "pip", "install"]]
    assert len(installs) == 1 and installs[0][4].startswith("dashsite[")
    extras = set(installs[0][4].removeprefix("dashsite[").rstrip("]").split(","))
    assert "notify" in extras and ("s3" in extras) == pull[1].startswith("$")
    assert not [argv for argv in commands if argv[0] == "make"]
    # "Re-run jobs" keeps the run number: the attempt makes the id new (ids are immutable)
    build = next(run for run in runs if " build " in f" {run} ")
    assert "${{ github.run_number }}-${{ github.run_attempt }}" in build


def test_the_docs_workflow_builds_the_docs_with_the_demo_and_deploys_them() -> None:
    document = yaml.safe_load(DOCS_WORKFLOW.read_text())
    steps = document["jobs"]["build"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    assert runs == ["make docs"]
    docs_target = re.search(r"^docs: .*\n((?:\t.*\n)+)", MAKEFILE, re.MULTILINE)
    assert docs_target is not None
    assert "mkdocs build --strict --site-dir build/docs-site" in docs_target.group(1)
    assert "scripts/docs_demo.py build/docs-site/demo" in docs_target.group(1)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "build/docs-site"
    deploy = document["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")


@pytest.mark.parametrize("workflow", EXAMPLES, ids=lambda p: p.name)
def test_workflow_keeps_the_folder_a_build_keeps_compiled_dashboards_in(
    workflow: Path, tmp_path: Path
) -> None:
    from projects import build, write_project

    steps = yaml.safe_load(workflow.read_text())["jobs"]["build"]["steps"]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    names = [s.get("name") for s in steps]
    assert names.index(cache["name"]) < next(
        n for n, s in enumerate(steps) if " build " in f" {s.get('run', '')} ")
    assert "hashFiles('dashboards/**/*.py')" in cache["with"]["key"]
    write_project(tmp_path, {"alpha": {"dashboard.py": "from dashsite import collector\n"
                                                       "@collector\ndef one():\n    return 1\n",
                                       "template.html": "<p>{{ one }}</p>"}})
    build(tmp_path)
    assert (tmp_path / cache["with"]["path"] / "modules.pack").is_file()


@pytest.mark.parametrize("workflow", EXAMPLES, ids=lambda p: p.name)
def test_workflow_keeps_what_the_last_build_drew(workflow: Path, tmp_path: Path) -> None:
    """``.dashsite/site.live.json`` is restored before the build, under a key a run (a
    cache is never overwritten), and is the file a build of ``site/`` keeps."""
    from projects import build, write_project

    steps = yaml.safe_load(workflow.read_text())["jobs"]["build"]["steps"]
    cache = next(s for s in steps if s.get("with", {}).get("path") == ".dashsite/site.live.json")
    assert cache["uses"].startswith("actions/cache@")
    assert "github.run_id" in cache["with"]["key"]
    assert cache["with"]["key"].startswith(cache["with"]["restore-keys"])
    assert steps.index(cache) < next(
        n for n, s in enumerate(steps) if " build " in f" {s.get('run', '')} ")
    write_project(tmp_path, {"alpha": {"dashboard.py": "from dashsite import collector\n"
                                                       "@collector\ndef one():\n    return 1\n",
                                       "template.html": "<p>{{ one }}</p>"}})
    build(tmp_path)
    assert (tmp_path / cache["with"]["path"]).is_file()
