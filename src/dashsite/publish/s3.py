"""Publish to and pull from S3 (or any S3-compatible store) with boto3.

Credentials come from boto3's standard chain (environment, shared files,
instance roles) and are never taken from the command line or logged.
Everything stays under the target prefix.

A publish costs what changed, not the history: it reads the published
``manifest.json`` and ``.dashsite/published.json`` (the MD5 of each file of
the part of the site that still changes: the index, latest pages, the
months since the last publish), uploads the versions filed since then and
the changed files of that part, and deletes what the tiers thinned. Only
when that cannot be trusted (nothing published yet, an index missing or
unreadable, retention dropped whole months, a dashboard gone, ``--full``)
does it list the prefix and compare every file (a single-part upload's
ETag is its MD5).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any

from dashsite.core.errors import NothingPublished, PublishError
from dashsite.publish import S3Target
from dashsite.publish.damaged import UnreadableManifest, overwriting, unreadable_manifest
from dashsite.publish.plan import (
    MANIFEST_STAGE,
    compare_versions,
    plan_site,
    site_files,
    unknown_versions_error,
    walk_site,
)
from dashsite.publish.verify import verified_files
from dashsite.status.summaries import YEAR_DAYS
from dashsite.status.view import HISTORY_PAGE, month_page
from dashsite.store import layout
from dashsite.store.layout import MANIFEST_FILE, MONTHS_PAGE, Kind
from dashsite.store.manifest import read_first
from dashsite.store.version_store import DashboardRecord, LogRecord, Manifest, VersionStore
from dashsite.store.write import StagedSite

UPLOAD_WORKERS = 8


@dataclass(slots=True)
class S3Report:
    """What a publish or pull did (or, in a dry run, would do)."""

    uploaded: list[str] = field(default_factory=list)
    unchanged: int = 0
    deleted: list[str] = field(default_factory=list)
    downloaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Objects ``pull --all`` left out: hidden, or not a path a site can hold."""


def make_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 S3 client; a clear error if boto3 is missing."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise PublishError(
            "publishing to S3 needs boto3", hint="pip install 'dashsite[s3]'"
        ) from None
    config = Config(
        retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60
    )
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def _explain(exc: Exception, target: S3Target, verb: str = "publish") -> PublishError:
    """One line for the boto3/botocore failures a user can act on."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return PublishError(
            "no AWS credentials found",
            hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
        )
    if isinstance(exc, EndpointConnectionError):
        return PublishError(
            f"cannot reach the S3 endpoint: {exc}",
            hint="check --endpoint-url and the network, then "
            + (
                "publish again (it resumes where it stopped)" if verb == "publish" else "pull again"
            ),
        )
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        operation = getattr(exc, "operation_name", "")
        if code == "NoSuchBucket" or (code == "404" and "Bucket" in operation):
            return PublishError(
                f"bucket '{target.bucket}' does not exist", hint="create it or fix the target"
            )
        if code in {"NoSuchKey", "404"}:
            return PublishError(
                f"an object listed at {target} is missing ({operation or code})",
                hint="publish again to repair the target, or pull without --all",
            )
        if code in {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            return PublishError(
                f"S3 refused access to {target}: {code}",
                hint="check the credentials and the bucket policy",
            )
        return PublishError(f"S3 error on {target}: {code or exc}")
    return PublishError(
        f"S3 transfer {'to' if verb == 'publish' else 'from'} {target} failed: "
        f"{type(exc).__name__}: {exc}",
        hint="publish again: it resumes where it stopped" if verb == "publish" else "pull again",
    )


def _remote_objects(client: Any, target: S3Target) -> dict[str, str]:
    """key → ETag (quotes stripped) of every object under the prefix."""
    found: dict[str, str] = {}
    prefix = f"{target.prefix}/" if target.prefix else ""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=target.bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = item["ETag"].strip('"')
    return found


def _remote_manifest(
    client: Any,
    target: S3Target,
    local: VersionStore | None = None,
    fetched: dict[str, bytes] | None = None,
) -> Manifest | None:
    """The published manifest (its earlier-months files from ``local`` when it has them).

    The files fetched from the target to read it are kept in ``fetched``.
    """
    from botocore.exceptions import ClientError

    def remote(relative: str) -> bytes | None:
        found = _get_if_there(client, target, relative)
        if found is not None and fetched is not None:
            fetched[relative] = found
        return found

    try:
        body = client.get_object(Bucket=target.bucket, Key=target.key(MANIFEST_FILE))["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
    try:
        return Manifest.from_json(
            json.loads(body.read()), read_first(local.read, remote) if local else remote
        )
    except (ValueError, RecursionError) as exc:
        raise unreadable_manifest(str(target), exc) from None


INDEX_FILE = ".dashsite/published.json"
"""At the target: MD5 of each file of the site's changing part, as last published."""
INDEX_SCHEMA = 1


def _remote_index(client: Any, target: S3Target) -> dict[str, str] | None:
    """The published index, validated; None when it is missing or not to be trusted."""
    try:
        found = _get_if_there(client, target, INDEX_FILE)
        raw = json.loads(found) if found is not None else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(raw, dict) or raw.get("schema") != INDEX_SCHEMA:
        return None
    files = raw.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) == 32 for k, v in files.items()
    ):
        return None
    return files


def _changing_part(
    site: Path,
    store: VersionStore,
    local: Manifest,
    baseline: Manifest,
    pruned: Sequence[tuple[str, str]] = (),
) -> tuple[list[str], list[str]] | None:
    """What may differ from ``baseline`` (the published manifest): (files, new version files).

    The site's root files and site-wide folders (assets, incidents, schemas, a plugin
    output's); per dashboard its top files,
    history index, digest, and the history pages, log shards and status files
    of the months since the baseline's latest version (and of months the tiers
    thinned since, or retention pruned: ``pruned``); plus the version folders
    filed since. None when a full comparison is needed (a dashboard the
    baseline has but the site lacks).
    """
    if any(slug not in local.dashboards for slug in baseline.dashboards):
        return None
    files = list(walk_site(site, deep=False))
    # Every site-wide folder (assets, incidents, schemas, a plugin output's): not a dashboard's.
    for top in sorted(
        entry.name
        for entry in site.iterdir()
        if entry.is_dir() and not entry.name.startswith(".") and entry.name not in local.dashboards
    ):
        files += walk_site(site, top)
    versions: list[str] = []
    for slug, record in local.dashboards.items():
        before = baseline.dashboards.get(slug)
        if not (site / slug).is_dir():
            continue
        if before is None or before.latest is None:
            files += walk_site(site, slug)
            continue
        latest = before.latest
        # from the earlier of the two latest months: a clock stepped back may file the newest
        # build in a month before the published one's
        first = min(latest.month, record.latest.month if record.latest else latest.month)
        months = {m for m in record.months if m >= first} | _thinned_months(record, before)
        months |= {m for name, m in pruned if name == slug and m in record.months}
        if before.incident is not None:  # resolved since: its start month's status file
            months.add(before.incident.start.astimezone(UTC).date().isoformat()[:7])
        files += walk_site(site, slug, deep=False)
        files += (
            path
            for path in walk_site(site, layout.history_folder(slug), deep=False)
            if path.rsplit("/", 1)[1][:7] in months
            or path.endswith(("/index.html", f"/{MONTHS_PAGE}"))
        )
        files += walk_site(site, layout.log_folder(slug), deep=False)  # the digest
        for month in sorted(months):
            if (site / slug / "log" / month).is_dir():
                files += walk_site(site, layout.log_month(slug, month))
            for entry in store.month(slug, month):
                if entry.order > latest.order:
                    versions += (
                        entry.path + name
                        for name in VERSION_FILES
                        if (site / (entry.path + name)).is_file()
                    )
    return sorted(set(files)), versions


_MONTH_PAGE = re.compile(r"(\d{4}-\d{2})(?:-(\d+))?\.html")


def _still_published(relative: str, local: Manifest) -> bool:
    """Whether ``relative``, published and not here, is still part of the site.

    A pulled site holds the log, not the pages: only those its builds drew since.
    So a file missing here was not deleted when it is a history page of a month the
    site still logs (within the month's pages), or any file of an archived dashboard
    (a build leaves those as they are). Retention and the tiers, which do delete
    some, say which (:func:`_pruned_keys`, :func:`_thinned_keys`).
    """
    found = layout.classify(relative)
    record = local.dashboards.get(found.slug) if found.slug is not None else None
    if record is not None and not record.active:
        return True
    page = _MONTH_PAGE.fullmatch(relative.rsplit("/", 1)[1])
    if found.kind is not Kind.HISTORY or record is None or page is None:
        return False
    info = record.months.get(page.group(1))
    number = int(page.group(2) or 1)
    return info is not None and number <= max(1, -(-info.count // HISTORY_PAGE))


def _thinned_months(record: DashboardRecord, before: DashboardRecord) -> set[str]:
    """Months whose history pages the tiers rewrote since ``before`` (links dropped)."""
    months: set[str] = set()
    for name in ("pages_from", "data_from"):
        cut, since = getattr(record, name), getattr(before, name)
        if cut is None or (since is not None and since >= cut):
            continue
        months.update(
            m for m in record.months if m <= cut[:7] and (since is None or m >= since[:7])
        )
    return months


def publish_s3(
    site: Path,
    target: S3Target,
    *,
    client: Any = None,
    dry_run: bool = False,
    force: bool = False,
    full: bool = False,
    say: Callable[[str], None] = lambda _: None,
    verify: bool = False,
) -> S3Report:
    """Upload what changed, stage by stage, manifest last; delete pruned versions.

    ``full`` compares every file with a listing of the target; ``verify`` does
    too, but checks the files that never change by name only (:mod:`.verify`).
    """
    if not (site / MANIFEST_FILE).is_file():
        plan_site(site)  # says "no built site to publish"
    client = client or make_client()
    report = S3Report()
    store = VersionStore(site)
    local = store.load_manifest()
    try:
        try:
            published = _remote_manifest(client, target, store)
        except UnreadableManifest as exc:
            if not force:
                raise
            overwriting(str(target), exc, say)
            published = None  # every file compared with a listing; nothing deleted
        index = None if full or verify or published is None else _remote_index(client, target)
        deletions: list[str] = []
        held: dict[str, str] = {}  # published, not here, still part of the site
        part: tuple[list[str], list[str]] | None = None
        pruned: list[tuple[str, str]] = []
        if published is not None:
            diff = compare_versions(local, published, store.knows)
            if diff.unknown and not force:
                raise unknown_versions_error(diff, str(target))
            pruned = diff.pruned
            if index is not None and not published.legacy:
                part = _changing_part(site, store, local, published, pruned)
        if part is not None and published is not None and index is not None:
            changing, versions = part
            files = site_files(site, [*changing, *versions])
            pending = [f for f in files if index.get(f.relative) != f.md5]
            fresh = set(changing)
            away = [k for k in index if k not in fresh and not (site / k).is_file()]
            held = {k: index[k] for k in away if _still_published(k, local)}
            gone = [k for k in away if k not in held]
            thinned = _thinned_keys(client, target, store, local, published, None)
            dropped = _pruned_keys(client, target, store, local, published, pruned, None)
            deletions = sorted({*(target.key(k) for k in gone), *thinned, *dropped})
        else:  # compare every file with a listing of the prefix
            remote = _remote_objects(client, target)
            present = 0
            if verify:
                files, present = verified_files(site, target, remote)
            else:
                files = plan_site(site)
            if published is not None:
                deletions = _pruned_keys(client, target, store, local, published, pruned, remote)
                thinned = _thinned_keys(client, target, store, local, published, remote)
                deletions = sorted({*deletions, *thinned})
            pending = [f for f in files if remote.get(target.key(f.relative)) != f.md5]
            own = _changing_part(site, store, local, local)
            fresh = set(own[0]) if own is not None else set()
            report.unchanged = present
        report.unchanged += len(files) - len(pending)

        def delete() -> None:
            for chunk in _chunks(deletions, 1000):
                client.delete_objects(
                    Bucket=target.bucket,
                    Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True},
                )

        deleted = not deletions or dry_run
        for stage, group in groupby(pending, key=lambda f: f.stage):
            batch = list(group)
            if dry_run:
                report.uploaded.extend(target.key(f.relative) for f in batch)
                continue
            if stage == MANIFEST_STAGE and not deleted:
                # Before the manifest, after every page that linked what goes: a publish
                # killed in between is finished by the next, which compares the manifests
                # again (after the new manifest, the thinned files would stay for good).
                delete()
                deleted = True

            def upload(item: Any) -> str:
                key = target.key(item.relative)
                with item.path.open("rb") as body:
                    client.put_object(
                        Bucket=target.bucket,
                        Key=key,
                        Body=body,
                        ContentType=item.content_type,
                        CacheControl=item.cache_control,
                        Metadata={"sha256": item.sha256},
                    )
                return str(key)

            with ThreadPoolExecutor(UPLOAD_WORKERS, thread_name_prefix="dashsite-s3") as pool:
                report.uploaded.extend(pool.map(upload, batch))
            say(f"uploaded {len(batch)} file(s): {_stage_name(stage)}")
        if not deleted:  # (the manifest was unchanged)
            delete()
        report.deleted = deletions
        published_index = {f.relative: f.md5 for f in files if f.relative in fresh}
        published_index.update(held)  # still followed: a later build may take one out
        # After the manifest: a half-done publish leaves the old index. An index that
        # already says the same is left alone: a publish with nothing changed writes nothing.
        if not dry_run and published_index != index:
            _put_index(client, target, published_index)
    except PublishError:
        raise
    except Exception as exc:
        raise _explain(exc, target) from exc
    return report


def _put_index(client: Any, target: S3Target, files: dict[str, str]) -> None:
    body = json.dumps({"schema": INDEX_SCHEMA, "files": dict(sorted(files.items()))})
    client.put_object(
        Bucket=target.bucket,
        Key=target.key(INDEX_FILE),
        Body=body.encode(),
        ContentType="application/json",
        CacheControl="no-cache",
    )


def _pruned_keys(
    client: Any,
    target: S3Target,
    store: VersionStore,
    local: Manifest,
    remote_manifest: Manifest,
    pruned: list[tuple[str, str]],
    remote: dict[str, str] | None,
) -> list[str]:
    """The published objects of versions local retention dropped, and their month files.

    For each pruned month the published log names its versions; those not
    in the local log go, with their folders. A month gone locally loses its
    log shards, status file and history pages too. Without a listing (``remote`` None) the
    month's pages are named from its published count; deleting a missing key
    is a no-op.
    """
    keys: list[str] = []
    for slug, month in pruned:
        remote_record = remote_manifest.dashboards.get(slug)
        shards = remote_record.log_paths(month) if remote_record else []
        checks = remote_record.check_paths(month) if remote_record else []
        if slug in remote_manifest.legacy:  # a schema-1 target lists its versions
            published = [e for e in remote_manifest.legacy[slug] if e.month == month]
        else:
            published = _read_remote_log(client, target, slug, shards)
        record = local.dashboards.get(slug)
        here = record is not None and month in record.months
        kept = {e.id for e in store.month(slug, month)} if here else set()
        for entry in published:
            if entry.id not in kept:
                keys.extend(target.key(entry.path + name) for name in VERSION_FILES)
        if not here:
            keys.extend(target.key(shard) for shard in [*shards, *checks])
            keys.append(target.key(layout.month_status(slug, month)))
            if remote is not None:
                pages = target.key(layout.history_page(slug, month))
                keys.extend(k for k in remote if k.startswith(pages) and k.endswith(".html"))
            elif remote_record is not None and month in remote_record.months:
                count = remote_record.months[month].count
                keys.extend(
                    target.key(layout.history_page(slug, month_page(month, n)))
                    for n in range(1, max(1, -(-count // HISTORY_PAGE)) + 1)
                )
        else:  # the days the local log no longer has (a day's checks go with its versions)
            days = {f"{month}-{path.stem}" for path in store.shards(slug, month)}
            keys.extend(
                target.key(shard) for shard in [*shards, *checks]
                if f"{month}-{shard.rsplit('/', 1)[1][:2]}" not in days
            )  # fmt: skip
    return sorted(set(keys) & set(remote)) if remote is not None else sorted(set(keys))


def _read_remote_log(
    client: Any, target: S3Target, slug: str, shards: list[str]
) -> list[LogRecord]:
    """The published log lines of these shards (a missing shard gives none)."""
    from botocore.exceptions import ClientError

    lines: list[str] = []
    for shard in shards:
        try:
            body = client.get_object(Bucket=target.bucket, Key=target.key(shard))["Body"]
        except ClientError:
            continue
        lines += body.read().decode("utf-8", "replace").splitlines()
    return VersionStore.parse(slug, lines)


VERSION_FILES = ("index.html", "data.json")
"""What a version folder holds (images travel inside the page)."""
PAGE = ("index.html",)


def _month_entries(
    client: Any,
    target: S3Target,
    store: VersionStore,
    record: DashboardRecord,
    month: str,
) -> list[LogRecord]:
    """A month's log: the local shards, or the published ones where the site lacks them."""
    if store.shards(record.slug, month):
        return store.month(record.slug, month)
    return _read_remote_log(client, target, record.slug, record.log_paths(month))


def _thinned_keys(
    client: Any,
    target: S3Target,
    store: VersionStore,
    local: Manifest,
    remote_manifest: Manifest,
    remote: dict[str, str] | None,
) -> list[str]:
    """Published pages and data of versions the local tiers have thinned since last time.

    Only the days between the target's tier marks and the local ones are
    looked at, so this costs what moved, not the history. Without a listing
    (``remote`` None) every such key is named; deleting a missing key is a no-op.
    """
    keys: list[str] = []
    for slug, record in local.dashboards.items():
        published = remote_manifest.dashboards.get(slug)
        for tier, whole in (("pages_from", False), ("data_from", True)):
            cut = getattr(record, tier)
            since = getattr(published, tier) if published else None
            if cut is None or (since is not None and since >= cut):
                continue
            for month in record.months:
                if month > cut[:7] or (since is not None and month < since[:7]):
                    continue
                for entry in _month_entries(client, target, store, record, month):
                    day = entry.collected_at[:10]
                    if day >= cut or (since is not None and day < since):
                        continue
                    if record.latest is not None and entry.id == record.latest.id:
                        continue  # kept whole, as the tiers keep it: the latest page links it
                    page_gone = (  # the data tier's days whose page an earlier publish took
                        whole
                        and published is not None
                        and published.pages_from is not None
                        and day < published.pages_from
                    )
                    files = ("data.json",) if page_gone else VERSION_FILES if whole else PAGE
                    for file in files:
                        key = target.key(entry.path + file)
                        if remote is None or key in remote:
                            keys.append(key)
    return keys


def _status_files(published: Manifest) -> list[str]:
    """Each dashboard's ``status.json`` of the months a build's uptime windows read."""
    cutoff = (datetime.now(UTC) - timedelta(days=YEAR_DAYS + 31)).strftime("%Y-%m")
    return [
        layout.month_status(record.slug, month)
        for record in published.dashboards.values()
        for month in record.months
        if month >= cutoff
    ]


def _get_if_there(client: Any, target: S3Target, relative: str) -> bytes | None:
    from botocore.exceptions import ClientError

    try:
        body = client.get_object(Bucket=target.bucket, Key=target.key(relative))["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") in {"NoSuchKey", "404"}:
            return None
        raise
    data: bytes = body.read()
    return data


def _needed_months(record: DashboardRecord, history: int) -> list[str]:
    """The log shards a build needs: the newest covering ``history`` versions, the oldest,
    and those from where the tiers thinned last on (the next build thins from there, and
    draws those months' history pages again without the links it drops)."""
    months = list(record.months)
    marks = [mark[:7] for mark in (record.pages_from, record.data_from) if mark is not None]
    wanted: list[str] = [month for month in months if marks and month >= min(marks)]
    seen = 0
    for month in reversed(months):
        wanted.append(month)
        seen += record.months[month].count
        if seen > history:
            break
    if months and months[0] not in wanted:
        wanted.append(months[0])
    return sorted(set(wanted))


_SITE_SUFFIXES = (".html", ".json", ".jsonl", ".xml", ".svg", ".css", ".js", ".txt", ".webp")
"""What the files dashsite writes end with (a folder's name, ``assets`` say, does not)."""


def site_keys(relatives: Iterable[str]) -> tuple[list[str], list[str]]:
    """The object names (relative to the prefix) a site can hold, and the others: hidden
    ones (``.git/config``, a lock), empty, ``.`` or ``..`` parts, and an object named
    like a folder others are in (``alpha`` beside ``alpha/index.html``): none is written
    into ``site/``."""
    names = [n for n in sorted(set(relatives)) if not (n.endswith("/") and n)]  # (markers)
    unsafe = {n for n in names if not n or any(not p or p.startswith(".") for p in n.split("/"))}
    # Where an object is named like a folder others are in, one must go: a page dashsite
    # writes (``index.html`` above ``index.html/x``) keeps its place, else the folder's do.
    files = {
        n
        for n in names
        if n.rsplit("/", 1)[-1].endswith(_SITE_SUFFIXES)
        and layout.classify(n).kind != layout.Kind.UNKNOWN
    }
    folders = {"/".join(n.split("/")[:k]) for n in names for k in range(1, n.count("/") + 1)}
    kept, skipped = [], []
    for name in names:
        parts = name.split("/")
        above = ("/".join(parts[:k]) for k in range(1, len(parts)))
        if (name in unsafe or (name in folders and name not in files)
                or any(prefix in files for prefix in above)):  # fmt: skip
            skipped.append(name)
        else:
            kept.append(name)
    return kept, skipped


def pull_s3(
    site: Path,
    target: S3Target,
    *,
    client: Any = None,
    everything: bool = False,
    history: int = 100,
) -> tuple[StagedSite, S3Report]:
    """Download the published manifest and what the next build needs into a new folder.

    By default that is the manifest, the log shards a build reads (the newest
    months covering ``history`` versions, and the oldest) and the newest
    ``history`` versions' ``data.json``; ``everything`` mirrors the prefix.
    The caller swaps the folder in as ``site/``.
    """
    client = client or make_client()
    report = S3Report()
    staged = StagedSite(site)
    staged.start_empty()
    try:
        fetched: dict[str, bytes] = {}
        published = _remote_manifest(client, target, fetched=fetched)
        if published is None:
            raise NothingPublished(
                f"nothing is published at {target} (no manifest.json)",
                hint="check the target, or build and publish first",
            )
        if everything:
            wanted, report.skipped = site_keys(  # ("folder/" markers of consoles hold no file)
                k[len(target.key("")) :]
                for k in _remote_objects(client, target)
                if k != target.key(INDEX_FILE)  # (publish's own record of the target)
            )
        else:  # what a build needs: the manifest, some log shards, the newest data
            wanted = [MANIFEST_FILE] + [
                shard
                for record in published.dashboards.values()
                for month in _needed_months(record, history)
                for shard in [*record.log_paths(month), *record.check_paths(month)]
            ]
            wanted += [  # the finished months, which the manifest links to
                record.earlier.url
                for record in published.dashboards.values()
                if record.earlier is not None
            ]
        for relative in wanted:
            if relative in fetched:  # read already, to check the manifest
                staged.write(relative, fetched[relative])
            else:
                body = client.get_object(Bucket=target.bucket, Key=target.key(relative))["Body"]
                staged.write(relative, body.read())
            report.downloaded.append(relative)
        if not everything:  # the status files of the last year (published since 0.3)
            for relative in _status_files(published):
                found = _get_if_there(client, target, relative)
                if found is not None:
                    staged.write(relative, found)
                    report.downloaded.append(relative)
            # What dashsite notify sent travels with the site.
            ledger = _get_if_there(client, target, layout.NOTIFY_LEDGER)
            if ledger is not None:
                staged.write(layout.NOTIFY_LEDGER, ledger)
                report.downloaded.append(layout.NOTIFY_LEDGER)
            pulled = VersionStore(staged.path)
            for record in published.dashboards.values():
                for entry in pulled.tail(record, history):
                    if record.tier(entry) == "log":  # past keep_data: only its log line is kept
                        continue
                    key = target.key(entry.data_url)
                    body = client.get_object(Bucket=target.bucket, Key=key)["Body"]
                    staged.write(entry.data_url, body.read())
                    report.downloaded.append(entry.data_url)
    except PublishError:
        staged.abort()
        raise
    except Exception as exc:
        staged.abort()
        raise _explain(exc, target, "pull") from exc
    return staged, report


def _stage_name(stage: int) -> str:
    from dashsite.publish.plan import STAGES

    return STAGES[stage]


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
