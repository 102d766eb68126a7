"""The tutorial works as written: every block of docs/tutorial.md is run, in order, in a
temporary folder, against a local HTTP server that stands in for the website it checks.

How each block is taken (the marker is an HTML comment on the line before the block):

* ```` ```console ````: every ``$ `` line is run with bash (``cd`` moves the folder);
* ``<!-- file: PATH -->``: the block is written to PATH; the workflow file's
  ``dashsite`` steps are run at the end, as the first scheduled CI run;
* ``<!-- run: background … -->``: ``dashsite serve`` is started (on a free port
  rather than 8000), its pages loaded, then stopped;
* ``<!-- not-run: NAME — reason -->``: not run; NAME must be one of ``NOT_RUN``, and
  those with a local stand-in (a bare repository for GitHub) run that instead.

A block with none of these fails the test, so nothing is skipped silently.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from servers import ServeProcess

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"

# The blocks the test does not run, and why (the markdown says so too).
NOT_RUN = {
    "install": "pip install needs the package index; the checkout's dashsite is on PATH",
    "github": "needs a GitHub repository; a local bare repository stands in",
    "pages": "a setting on github.com",
}
# Workflow steps that are not dashsite commands: set up by the runner, not run here.
RUNNER_STEPS = {"pip install dashsite"}

_MARKER = re.compile(r"^<!-- (file|not-run|run): ([^ ]+)(?: — (.*))? -->$")
_FENCE = re.compile(r"^```(\w*)$")


@dataclass
class Block:
    language: str
    body: str
    kind: str | None  # file, not-run, run or None
    argument: str | None
    line: int


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a page, each with the marker on the line before it."""
    found, lines, n = [], text.split("\n"), 0
    while n < len(lines):
        fence = _FENCE.match(lines[n])
        if fence is None:
            n += 1
            continue
        end = lines.index("```", n + 1)
        marker = _MARKER.match(lines[n - 1]) if n else None
        found.append(Block(fence.group(1), "\n".join(lines[n + 1:end]) + "\n",
                           marker.group(1) if marker else None,
                           marker.group(2) if marker else None, n + 1))
        n = end + 1
    return found


class _Health(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Health.hits.append(self.path)
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def website() -> Iterator[str]:
    """The website the tutorial's collector checks: a real HTTP server on 127.0.0.1."""
    _Health.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Shell:
    """Runs the tutorial's commands as a reader would, one after another."""

    def __init__(self, home: Path, status_url: str) -> None:
        self.cwd = home
        shims = home / ".shims"
        shims.mkdir()
        dashsite = shims / "dashsite"  # the checkout's dashsite, as `pip install` would give
        dashsite.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m dashsite "$@"\n')
        dashsite.chmod(0o755)
        source = str(ROOT / "src")
        self.env = {
            **os.environ,
            "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
            "STATUS_URL": status_url,
            "NO_COLOR": "1",
            "GIT_AUTHOR_NAME": "Tutorial", "GIT_AUTHOR_EMAIL": "tutorial@example.com",
            "GIT_COMMITTER_NAME": "Tutorial", "GIT_COMMITTER_EMAIL": "tutorial@example.com",
            "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        }
        self.ran: list[str] = []

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        self.ran.append(command)
        if command.startswith("cd "):
            self.cwd = (self.cwd / command[3:].strip()).resolve()
            assert self.cwd.is_dir(), command
            return subprocess.CompletedProcess(command, 0, "", "")
        done = subprocess.run(["bash", "-c", command], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"$ {command}\n{done.stdout}\n{done.stderr}"
        return done


def _commands(block: Block) -> list[str]:
    return [line[2:] for line in block.body.splitlines() if line.startswith("$ ")]


def _serve(shell: Shell, command: str) -> None:
    """`dashsite serve …` in the background: the preview answers with the dashboard."""
    words = shlex.split(command)
    assert words[:2] == ["dashsite", "serve"], command
    shell.ran.append(command)
    server = ServeProcess(shell.cwd, *words[2:])
    try:
        with urllib.request.urlopen(server.url + "website/index.html", timeout=30) as answer:
            page = answer.read().decode()
        assert "Response time" in page
    finally:
        assert server.stop() in (0, 130)


def _run_workflow(shell: Shell, workflow: Path, status_url: str) -> list[str]:
    """The workflow's steps as a runner would run them; returns the runner's own steps."""
    job = next(iter(yaml.safe_load(workflow.read_text())["jobs"].values()))
    assert job["env"]["STATUS_URL"]  # the tutorial shows where to set it
    shell.env["STATUS_URL"] = status_url
    skipped = []
    for step in job["steps"]:
        command = step.get("run")
        if command is None:
            assert step["uses"].startswith(("actions/checkout@", "actions/setup-python@"))
            continue
        if command in RUNNER_STEPS:
            skipped.append(command)
            continue
        shell.run(command.replace("${{ github.run_number }}", "1")
                  .replace("${{ github.run_attempt }}", "1"))
    return skipped


def test_every_block_of_the_tutorial_runs(tmp_path: Path, website: str) -> None:
    found = blocks(TUTORIAL.read_text(encoding="utf-8"))
    shell = Shell(tmp_path, website)
    not_run: list[str] = []
    workflow: Path | None = None
    bare = tmp_path / "github" / "status-site.git"
    for block in found:
        where = f"docs/tutorial.md:{block.line}"
        if block.kind == "not-run":
            assert block.argument in NOT_RUN, f"{where}: unknown not-run block {block.argument}"
            not_run.append(block.argument)
            if block.argument == "github":  # the same commands, against a local bare repository
                subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
                for command in _commands(block):
                    shell.run(command.replace("git@github.com:YOU/status-site.git", str(bare)))
            continue
        if block.kind == "file":
            assert block.argument is not None
            target = shell.cwd / block.argument
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body, encoding="utf-8")
            if target.suffix == ".yml":
                workflow = target
            continue
        assert block.language == "console", f"{where}: a block the test cannot run: mark it"
        commands = _commands(block)
        assert commands, f"{where}: a console block without a $ line"
        for command in commands:
            if block.kind == "run":
                _serve(shell, command)
            else:
                shell.run(command)
    assert sorted(not_run) == sorted(NOT_RUN)
    assert workflow is not None, "the tutorial writes a GitHub Actions workflow"
    before = len(_Health.hits)
    assert before >= 2  # the builds of step 5 each checked the website
    # The first scheduled run: from a fresh checkout, pull the history, build, publish.
    checkout = tmp_path / "ci-checkout"
    subprocess.run(["git", "clone", "--quiet", "--branch", "main", str(bare), str(checkout)], check=True)
    shell.cwd = checkout
    assert _run_workflow(shell, checkout / workflow.relative_to(tmp_path / "status-site"),
                         website) == sorted(RUNNER_STEPS)
    assert len(_Health.hits) == before + 1
    published = subprocess.run(["git", "-C", str(bare), "show", "gh-pages:manifest.json"],
                               capture_output=True, text=True, check=True).stdout
    from dashsite.store.manifest import Manifest

    website = Manifest.from_json(json.loads(published)).dashboards["website"]
    assert website.latest is not None and website.latest.status.slug == "ok"
    # Three builds by hand, then CI's, which extended them: a version, or a check when
    # the response time (in whole ms) came out the same as the latest version's.
    newest = website.seen
    assert newest is not None and newest.id == "run-1-1"
    assert 1 <= website.count <= 4
    assert any(c.startswith("dashsite serve") for c in shell.ran)
