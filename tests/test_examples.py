"""The CI recipes in examples/ are valid workflows that call commands that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from dashsite.cli import parser

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.yml"))
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
    assert names[:3] == ["pull", "build", "publish"] and set(names[3:]) <= {"publish"}
    for argv in dashsite:
        parser().parse_args([a if not a.startswith("$") else "s3://bucket/x" for a in argv])
    for argv in commands:
        if argv[0] == "make":
            assert re.search(rf"^{argv[1]}:", MAKEFILE, re.MULTILINE), argv
    pull = dashsite[0]
    assert pull[1] == dashsite[2][1]  # pulls from where it publishes
