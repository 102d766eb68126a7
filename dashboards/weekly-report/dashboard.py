"""A Markdown report: a table of figures and a trend drawn across versions."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dashsite import collector

from stats import count_lines  # a helper module beside this file

TITLE = "Weekly report"
DESCRIPTION = "Size of this project's code, tracked build after build."

ROOT = Path(__file__).resolve().parents[2]


@collector
def code() -> dict[str, int]:
    return {
        "Python files": len(list((ROOT / "src").rglob("*.py"))),
        "Source lines": count_lines(ROOT / "src"),
        "Test lines": count_lines(ROOT / "tests"),
        "Dashboards": sum(1 for p in (ROOT / "dashboards").iterdir()
                          if p.is_dir() and not p.name.startswith(("_", "."))),
    }


@collector
def runtime() -> dict[str, str]:
    return {"python": sys.version.split()[0], "ci": "yes" if os.environ.get("CI") else "no"}
