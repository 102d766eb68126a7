"""``publish --verify``: list the target, compare it with the site, repair what is missing.

A publish normally compares only what may have changed since the last one
(the publish index), so an object deleted at the target behind dashsite's
back (a lifecycle rule, a hand clean-up) stays missing: every page's CSS,
say. ``--full`` hashes every local file and compares it with a listing;
``--verify`` is the cheap check to run on a schedule. It lists the target
once, hashes only the part of the site that may change, and checks the
files that never change (versions, content-named assets and months) by
name: written once, they are only ever missing, not different. Whatever
is missing or differs is uploaded again.
"""

from __future__ import annotations

from pathlib import Path

from dashsite.publish import S3Target
from dashsite.publish.plan import IMMUTABLE, SiteFile, publish_stage, site_files, walk_site


def verified_files(
    site: Path, target: S3Target, remote: dict[str, str]
) -> tuple[list[SiteFile], int]:
    """The files to compare by content, and how many never-changing files are present.

    ``remote`` maps each key at the target to its ETag (a listing).
    """
    compare, present = [], 0
    for relative in walk_site(site):
        if publish_stage(relative)[1] == IMMUTABLE and target.key(relative) in remote:
            present += 1
        else:
            compare.append(relative)
    return site_files(site, compare), present
