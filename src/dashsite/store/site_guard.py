"""A build replaces files in its site folder: never in a folder that is not a dashsite site.

``site_dir`` set by mistake to a folder of one's own (``~/www``, a docs
folder) would have its ``index.html`` overwritten. A build goes ahead in a
folder that does not exist, is empty (hidden entries such as ``.git`` do
not count), or shows dashsite's marks: its ``manifest.json``, its staging
folder, or the lock an earlier build left beside it (so a first build
killed before its manifest was written still finishes next time).
Anything else needs ``dashsite build --force``.
"""

from __future__ import annotations

from pathlib import Path

from dashsite.core.errors import SiteError
from dashsite.store.layout import MANIFEST_FILE, TEMP_FOLDER, state_file

SHOWN_NAMES = 3


def dashsite_marks(site: Path) -> list[Path]:
    """The files that say dashsite has built (or started to build) ``site``."""
    return [
        site / MANIFEST_FILE,
        site / TEMP_FOLDER,
        state_file(site, "lock"),
    ]


def foreign_folder_problem(site: Path, shown: str) -> SiteError | None:
    """Why a build must not write into ``site``, or None when it may."""
    if not site.is_dir() or any(mark.exists() for mark in dashsite_marks(site)):
        return None
    try:
        names = sorted(entry.name for entry in site.iterdir() if not entry.name.startswith("."))
    except OSError:
        return None  # the build itself will say what is wrong with the folder
    if not names:
        return None
    listed = ", ".join(names[:SHOWN_NAMES]) + (", …" if len(names) > SHOWN_NAMES else "")
    return SiteError(
        f"is not empty and is not a dashsite site (it holds {listed})",
        path=shown,
        hint="use a new or empty site_dir, or build there with --force "
        "(files of the same names get replaced)",
    )
