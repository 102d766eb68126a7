"""Derived files are caches: each is sealed to the log range it summarises.

A month's ``status.json`` and a dashboard's ``digest.json`` are computed
from the history log; the log is the truth. Each file carries a
``fingerprint``, its last field: a hash of the file's other bytes and of
the sizes of the log shards it covers (the days it has settled). When a build reads one back, it
checks the seal against the shards as they are now; a file that is missing,
unreadable, edited (an incident removed, days marked up) or older than its
shards (a line appended to a settled day) fails the check and is computed
again from the log. Sizes, not modification times: a pull or a checkout
changes those without changing the log.

It costs one ``stat`` per shard covered: for the digest, at most a year of
days; far less than reading them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from dashsite.store.records import months_between
from dashsite.store.version_store import VersionStore

FINGERPRINT = "fingerprint"
_SEAL_AT_END = re.compile(rb'"' + FINGERPRINT.encode() + rb'":"([0-9a-f]{24})"\}\s*\Z')
_SEAL_TEXT = re.compile(r',"' + FINGERPRINT + r'":"([0-9a-f]{24})"\}\n?\Z')


def month_signature(store: VersionStore, slug: str, month: str, through: str | None) -> str:
    """``DD:size`` of each of ``month``'s shards up to the day ``through`` (inclusive)."""
    if through is None or through[:7] < month:
        return ""
    last = through[8:10] if through[:7] == month else "99"
    return ",".join(
        f"{day}:{'-' if size is None else size}"
        for day, size in store.shard_sizes(slug, month)
        if day <= last
    )


def span_signature(store: VersionStore, slug: str, months: Iterable[str], through: str) -> str:
    """The signatures of several months, up to the day ``through``."""
    return ";".join(f"{m}={month_signature(store, slug, m, through)}" for m in months)


@cache
def year_months(today: str) -> tuple[str, ...]:
    """The months of the year of days that ends with ``today`` (``YYYY-MM-DD``)."""
    last = date.fromisoformat(today)
    return tuple(months_between(last - timedelta(days=364), last))


def _seal(body: str, signature: str) -> str:
    return hashlib.sha256(f"{body}\n{signature}".encode()).hexdigest()[:24]


def sealed(document: Mapping[str, Any], signature: str) -> tuple[str, str]:
    """``document`` as the file's text, its fingerprint the last field, and the fingerprint.

    The seal hashes the text itself, not the document: checking it costs a hash
    of the file's bytes, not a second serialisation of what was read (a digest
    is checked every build).
    """
    body = json.dumps(
        {k: v for k, v in document.items() if k != FINGERPRINT},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    seal = _seal(body, signature)
    return f'{body[:-1]},"{FINGERPRINT}":"{seal}"}}\n', seal


def holds(text: str, signature: str) -> bool:
    """Whether ``text`` (a cache file as read) is sealed to ``signature``: written by
    :func:`sealed` with it, and not a byte changed since."""
    start = max(0, len(text) - 64)  # the seal is the last field: look at the end only
    found = _SEAL_TEXT.search(text, start)
    if found is not None and found.group(1) == _seal(text[: found.start()] + "}", signature):
        return True
    return _held_before(text, signature)


def _held_before(text: str, signature: str) -> bool:
    """Sealed as earlier releases sealed (the document read back, its keys sorted):
    a site's finished months keep their status files for good, and computing them all
    again from the log would make the first build after an upgrade take minutes."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        return False
    if not isinstance(raw, dict) or not isinstance(raw.get(FINGERPRINT), str):
        return False
    body = {k: v for k, v in raw.items() if k != FINGERPRINT}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return bool(raw[FINGERPRINT] == _seal(canonical, signature))


def read_seal(path: Path) -> str:
    """The fingerprint a cache file written by :func:`sealed` ends with, or ``""``.

    Read from the file's last bytes only (the fingerprint is its last field). It
    hashes the content, so two files with the same seal were written with the same
    content; whether the file still holds it is :func:`holds`'s question, asked
    when the file is read.
    """
    try:
        with path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(0, size - 64))
            tail = file.read()
    except OSError:
        return ""
    found = _SEAL_AT_END.search(tail)
    return found.group(1).decode() if found else ""
