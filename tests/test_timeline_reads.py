"""What a build reads of the status over time: each month's status file once at most.

The latest page's bars, the history index's calendar and the month page each ask
for months (their days and the incidents that touched them); the timeline reads a
month's ``status.json`` once a build and every page after it asks the copy, and the
bars' incidents come with the day's digest.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashsite.status.summaries import MonthStatus
from projects import build, fixed_clock, seed_log, write_project

END = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
DASHBOARD = """
from dashsite import collector

@collector
def up():
    return 1
"""


def test_a_build_reads_each_month_status_file_at_most_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slugs = ["alpha", "beta"]
    write_project(
        tmp_path,
        {slug: {"dashboard.py": DASHBOARD, "template.html": "<p>{{ up }}</p>"} for slug in slugs},
        config='expected_every = "1h"\n',
    )
    seed_log(tmp_path, slugs, 24 * 130, END, every=60)  # five months, hourly
    build(tmp_path, clock=fixed_clock(END + timedelta(hours=1)))  # writes the status files

    reads: Counter[tuple[str, str]] = Counter()
    whole: set[tuple[str, str]] = set()
    parse = MonthStatus.from_json.__func__  # type: ignore[attr-defined]

    def counted(
        cls: type[MonthStatus], raw: Any, slug: str, month: str, *, days: bool = True
    ) -> MonthStatus:
        reads[(slug, month)] += 1
        if days:
            whole.add((slug, month))
        return parse(cls, raw, slug, month, days=days)  # type: ignore[no-any-return]

    monkeypatch.setattr(MonthStatus, "from_json", classmethod(counted))
    build(tmp_path, clock=fixed_clock(END + timedelta(hours=2)))

    assert {slug for slug, _ in reads} == set(slugs)
    assert max(reads.values()) == 1, sorted(reads.items())
    # The finished months' calendars were drawn by the build before, and the incidents
    # that touched the 90-day bars are in the day's digest (sealed to those months'
    # files): of the status files only the current month's is read.
    assert set(reads) == whole == {(slug, "2026-11") for slug in slugs}, sorted(reads)
