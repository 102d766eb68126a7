"""Helpers to lay out throw-away dashsite projects and run the CLI on them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from dashsite.build import BuildOptions, BuildResult, build_site
from dashsite.config import load_config

SIMPLE_MODULE = """
from dashsite import collector, StatusCell, StatusLevel

TITLE = "{title}"

@collector
def status():
    return StatusCell("UP", StatusLevel.OK)

@collector
def count():
    return 42
"""
SIMPLE_TEMPLATE = "<p id='count'>{{ count }}</p>{{ status | render }}"


def write_project(root: Path, dashboards: dict[str, dict[str, str]],
                  config: str | None = None) -> Path:
    """Create ``root/dashboards/<slug>/<file>`` for each entry (text is dedented)."""
    for slug, files in dashboards.items():
        folder = root / "dashboards" / slug
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    if config is not None:
        (root / "dashsite.toml").write_text(textwrap.dedent(config), encoding="utf-8")
    return root


def simple(title: str = "Simple") -> dict[str, str]:
    """A dashboard with two trivial collectors."""
    return {"dashboard.py": SIMPLE_MODULE.format(title=title), "template.html": SIMPLE_TEMPLATE}


def fixed_clock(*moments: datetime):
    """A clock for BuildOptions that returns ``moments`` in turn, then the last."""
    queue = list(moments)

    def now() -> datetime:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return now


def build(root: Path, **options) -> BuildResult:
    """Build the project in-process."""
    return build_site(load_config(root), BuildOptions(**options))


def cli(root: Path, *args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run ``python -m dashsite -C root ARGS`` as a real process."""
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "dashsite", "-C", str(root), *args],
        capture_output=True, text=True, timeout=timeout, env=env, check=False, **kwargs,
    )


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path → sha256 of every file under ``folder``."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


T0 = datetime(2026, 11, 27, 20, 15, 0, tzinfo=UTC)
