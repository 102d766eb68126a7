"""The build's journal: the versions a build is filing, until its manifest counts them.

``<site>/.dashsite-tmp/journal.json`` is written before the first version
folder is renamed in and removed with the temporary folder once the
manifest (the commit point) is written. A build that finds it was killed
midway: :func:`recover` adopts the versions that made it into the site and
deletes what was still aside.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from dashsite.core.names import is_slug
from dashsite.store import layout
from dashsite.store.layout import JOURNAL_FILE
from dashsite.store.version_store import DashboardRecord, LogRecord, Manifest, VersionStore
from dashsite.store.write import atomic_write


def write_journal(
    store: VersionStore,
    adopted: Mapping[str, Sequence[LogRecord]],
    slugs: Iterable[str],
    version_id: str,
    collected_at: datetime,
) -> None:
    """Name the versions about to be filed (and those ``adopted`` from a killed build, not
    counted yet), so a build killed before its manifest is finished by the next."""
    journal = store.temp_folder() / JOURNAL_FILE
    journal.parent.mkdir(exist_ok=True)
    filing = [
        {"slug": slug, "path": f"{layout.version_folder(slug, version_id, collected_at)}/"}
        for slug in slugs
    ]
    atomic_write(journal, json.dumps(_journal_entries(adopted) + filing).encode())


def recover(
    store: VersionStore, manifest: Manifest
) -> tuple[dict[str, set[str]], dict[str, list[LogRecord]]]:
    """Finish what a killed build left: adopt its filed versions, drop its parts.

    The journal lists the versions that build was filing. One whose folder
    was renamed in is adopted (its log line written if missing, the manifest
    counts redone for its month); anything still aside in the temporary
    folder is deleted. Returns the months whose history pages must be redone,
    and the versions adopted (their status is followed once the timeline is
    open), by dashboard.
    """
    temp = store.temp_folder()
    if not temp.is_dir():
        return {}, {}
    store.drop_orphans()  # the version folders its retention had taken out of the log
    touched: dict[str, set[str]] = {}
    adopted: dict[str, list[LogRecord]] = {}
    journal = temp / JOURNAL_FILE
    try:
        entries = json.loads(journal.read_text(encoding="utf-8")) if journal.is_file() else []
    except (OSError, ValueError, RecursionError):
        entries = []
    for entry in entries if isinstance(entries, list) else []:
        slug, path = (entry.get("slug"), entry.get("path")) if isinstance(entry, dict) else (0, 0)
        if not (isinstance(slug, str) and is_slug(slug) and isinstance(path, str)):
            continue
        if not layout.in_dashboard(slug, path):
            continue
        if not (store.site / path).is_dir():
            continue
        record = manifest.dashboards.setdefault(slug, DashboardRecord(slug, slug))
        found = store.adopt(record, path)
        if found is not None:
            touched.setdefault(slug, set()).add(found.month)
            adopted.setdefault(slug, []).append(found)
    for leftover in temp.iterdir():  # versions still aside: never renamed in, never counted
        if leftover.name != JOURNAL_FILE:
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
    # The adopted versions stay in the journal until this build's manifest counts them: a
    # build killed before that (in collection, say) leaves them for the next one again.
    atomic_write(journal, json.dumps(_journal_entries(adopted)).encode())
    return touched, adopted


def _journal_entries(adopted: Mapping[str, Sequence[LogRecord]]) -> list[dict[str, str]]:
    return [
        {"slug": slug, "path": entry.path} for slug, found in adopted.items() for entry in found
    ]
