"""What a build tells: how each dashboard fared, the build's outcome, its summary line.

The CLI prints :func:`summary` and, with ``--json``, :meth:`BuildResult.to_json`;
a library caller gets the :class:`BuildResult` of :func:`dashsite.build_site`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashsite.core.errors import DashsiteError
from dashsite.core.levels import StatusLevel


@dataclass(frozen=True, slots=True)
class DashboardBuild:
    """How one dashboard fared in a build."""

    slug: str
    status: StatusLevel | None
    version: str | None
    errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    unchanged: bool = False
    """Its data equals its latest version's: a check was filed, and ``version`` is the
    latest version's."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    """The outcome of a build, for the CLI summary and ``--json``."""

    version_id: str
    site: Path
    dashboards: tuple[DashboardBuild, ...]
    problems: tuple[DashsiteError, ...]
    pruned: dict[str, list[str]]
    duration: float
    files_written: int
    bytes_written: int = 0

    @property
    def collector_failures(self) -> int:
        """How many collectors failed across all dashboards."""
        return sum(len(d.errors) for d in self.dashboards)

    def exit_code(self, strict: bool) -> int:
        """1 when the user must act (bad input, or failures under --strict), else 0."""
        if self.problems or (strict and self.collector_failures):
            return 1
        return 0

    def to_json(self) -> dict[str, Any]:
        """The machine-readable build report."""
        return {
            "version": self.version_id,
            "site": str(self.site),
            "duration": round(self.duration, 3),
            "files_written": self.files_written,
            "bytes_written": self.bytes_written,
            "dashboards": [
                {
                    "slug": d.slug,
                    "status": d.status.slug if d.status is not None else None,
                    "version": d.version,
                    "collector_errors": d.errors,
                    "problem": d.problem,
                    "unchanged": d.unchanged,
                }
                for d in self.dashboards
            ],
            "problems": [p.one_line() for p in self.problems],
            "pruned": self.pruned,
        }


def overall_level(result: BuildResult) -> StatusLevel:
    if result.problems:
        return StatusLevel.ERROR
    if result.collector_failures:
        return StatusLevel.WARNING
    return StatusLevel.OK


def summary(result: BuildResult) -> str:
    """``Built 3 dashboards as version … in 0.4 s: 1 collector failed, 1 problem``."""
    built = sum(1 for d in result.dashboards if d.version and not d.unchanged)
    same = sum(1 for d in result.dashboards if d.unchanged)
    if built:
        head = (
            f"Built {built} dashboard{'s' if built != 1 else ''} as version "
            f"{result.version_id} in {result.duration:.2f} s"
        )
    elif same:
        head = (
            f"Checked {same} dashboard{'s' if same != 1 else ''}, data unchanged (no version "
            f"filed) in {result.duration:.2f} s"
        )
    else:
        head = f"Built no dashboard (no version filed) in {result.duration:.2f} s"
    notes = []
    if built and same:
        notes.append(f"{same} unchanged (checked, no new version)")
    if result.collector_failures:
        n = result.collector_failures
        notes.append(f"{n} collector{'s' if n != 1 else ''} failed")
    if result.problems:
        n = len(result.problems)
        notes.append(f"{n} problem{'s' if n != 1 else ''} to fix")
    return head + (": " + ", ".join(notes) if notes else "")
