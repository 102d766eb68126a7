"""Helpers for the weekly report (shows that a dashboard can import its neighbours)."""

from __future__ import annotations

from pathlib import Path


def count_lines(folder: Path) -> int:
    """Non-blank lines of Python under ``folder``."""
    if not folder.is_dir():
        return 0
    return sum(
        sum(1 for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.strip())
        for path in folder.rglob("*.py")
    )
