"""The history index's rows: a run of identical OK versions folded into one row.

A build every five minutes makes the newest hundred versions a wall of the
same green row; what a reader looks for is where that changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dashsite.core.levels import StatusLevel
from dashsite.store.log import LogRecord

FOLD_AT = 10
"""Runs at least this long become one row (a short run reads fine as it is)."""


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One row: a version, or a run of OK versions (``newest`` first, as the index lists)."""

    newest: LogRecord
    oldest: LogRecord
    count: int = 1

    @property
    def folded(self) -> bool:
        """More than one version in this row."""
        return self.count > 1


def fold_runs(versions: Sequence[LogRecord]) -> list[HistoryRow]:
    """``versions`` (newest first) as rows, runs of :data:`FOLD_AT` or more OK ones folded."""
    rows: list[HistoryRow] = []
    run: list[LogRecord] = []

    def flush() -> None:
        if len(run) >= FOLD_AT:
            rows.append(HistoryRow(run[0], run[-1], len(run)))
        else:
            rows.extend(HistoryRow(v, v) for v in run)
        run.clear()

    for version in versions:
        if version.status == StatusLevel.OK and not version.errors:
            run.append(version)
            continue
        flush()
        rows.append(HistoryRow(version, version))
    flush()
    return rows
