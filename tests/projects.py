"""Helpers to lay out throw-away dashsite projects and run the CLI on them."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from dashsite.cli import main
from dashsite.core.config import load_config
from dashsite.site.build import BuildOptions, BuildResult, build_site

SIMPLE_MODULE = """
from dashsite import collector, StatusCell, StatusLevel

TITLE = "{title}"

@collector
def status():
    return StatusCell("UP", StatusLevel.OK)

@collector
def count():
    return 42
"""
SIMPLE_TEMPLATE = "<p id='count'>{{ count }}</p>{{ status | render }}"


def write_project(root: Path, dashboards: dict[str, dict[str, str]],
                  config: str | None = None) -> Path:
    """Create ``root/dashboards/<slug>/<file>`` for each entry (text is dedented)."""
    for slug, files in dashboards.items():
        folder = root / "dashboards" / slug
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    if config is not None:
        (root / "dashsite.toml").write_text(textwrap.dedent(config), encoding="utf-8")
    return root


def simple(title: str = "Simple") -> dict[str, str]:
    """A dashboard with two trivial collectors."""
    return {"dashboard.py": SIMPLE_MODULE.format(title=title), "template.html": SIMPLE_TEMPLATE}


def fixed_clock(*moments: datetime):
    """A clock for BuildOptions that returns ``moments`` in turn, then the last."""
    queue = list(moments)

    def now() -> datetime:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return now


def build(root: Path, **options) -> BuildResult:
    """Build the project in-process."""
    return build_site(load_config(root), BuildOptions(**options))


IN_PROCESS_COMMANDS = frozenset({"build", "list", "new", "mail", "notify", "publish", "pull"})


def cli(root: Path, *args: str, timeout: float = 120, process: bool = False,
        **kwargs) -> subprocess.CompletedProcess[str]:
    """``dashsite -C root ARGS``: in this process (``main([...])``, stdout and stderr
    captured), or as a real ``python -m dashsite`` process when asked (``process=True``),
    when given ``env``/``input``/``cwd``…, or for ``serve`` (it runs until stopped)."""
    if process or kwargs or not args or args[0] not in IN_PROCESS_COMMANDS:
        return cli_process(root, *args, timeout=timeout, **kwargs)
    argv = ["-C", str(root), *args]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return subprocess.CompletedProcess(["dashsite", *argv], code, out.getvalue(), err.getvalue())


def cli_process(root: Path, *args: str, timeout: float = 120,
                **kwargs) -> subprocess.CompletedProcess[str]:
    """Run ``python -m dashsite -C root ARGS`` as a real process."""
    env = {**kwargs.pop("env", os.environ), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "dashsite", "-C", str(root), *args],
        capture_output=True, text=True, timeout=timeout, env=env, check=False, **kwargs,
    )


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path → sha256 of every file under ``folder``."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


T0 = datetime(2026, 11, 27, 20, 15, 0, tzinfo=UTC)


def logged_versions(site: Path) -> dict[str, list[str]]:
    """Slug → version ids in the site's history log, oldest first (what the site keeps)."""
    import json as _json

    found: dict[str, list[str]] = {}
    for shard in sorted(site.glob("*/log/*/[0-3][0-9].jsonl")):  # <slug>/log/<YYYY-MM>/<DD>.jsonl
        ids = [_json.loads(line)["id"] for line in shard.read_text().splitlines() if line.strip()]
        found.setdefault(shard.parts[-4], []).extend(ids)
    return found


def logged_checks(site: Path) -> dict[str, list[tuple[str, str]]]:
    """Slug → ``(check id, the version it repeats)`` in the site's checks files, oldest first
    (builds that found the data unchanged: ``<DD>.checks.jsonl``)."""
    import json as _json

    found: dict[str, list[tuple[str, str]]] = {}
    for day in sorted(site.glob("*/log/*/[0-3][0-9].checks.jsonl")):
        for line in day.read_text().splitlines():
            try:
                raw = _json.loads(line)
            except ValueError:
                continue  # (a torn line: the store skips it too)
            if isinstance(raw, dict) and "same" in raw:
                found.setdefault(day.parts[-4], []).append((raw["id"], raw["same"]))
    return found


def manifest_entries(manifest: dict | Path | str) -> dict[str, dict]:
    """Slug → a dashboard's whole manifest entry (``manifest.json`` read from a site folder,
    or its text or document): schema 4 lists a field only where it differs from
    ``defaults``, so a reader takes ``{**defaults, **dashboard}``."""
    import json as _json

    if isinstance(manifest, Path):
        manifest = (manifest / "manifest.json").read_text()
    if isinstance(manifest, str):
        manifest = _json.loads(manifest)
    defaults = manifest.get("defaults", {})
    return {d["slug"]: {**defaults, **d} for d in manifest["dashboards"]}


def assert_site_whole(site: Path, anchors: bool = True) -> None:
    """Every page parses, every relative link and asset in it exists, the manifest reads;
    with ``anchors``, every link to a row of a page (``#v-…``, ``#d-…``) finds it."""
    import json as _json
    from urllib.parse import urlsplit

    from htmltree import parse as _parse

    manifest = _json.loads((site / "manifest.json").read_text())
    urls = manifest["urls"]
    for dashboard in manifest["dashboards"]:
        latest = dashboard.get("latest")
        if latest:
            for url in (urls["version_page"], urls["version_data"]):
                assert (site / url.format(path=latest["path"])).is_file(), latest
        assert (site / urls["dashboard"].format(slug=dashboard["slug"])).is_file(), dashboard
    ids: dict[Path, set[str]] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = {n.attrs["id"] for n in _parse(path.read_text()).iter() if "id" in n.attrs}
        return ids[path]

    for page in site.rglob("*.html"):
        if any(part.startswith(".") for part in page.relative_to(site).parts):
            continue
        tree = _parse(page.read_text())
        for node in tree.iter():
            for name in ("href", "src"):
                link = node.attrs.get(name)
                if not link or urlsplit(link).scheme or link.startswith(("#", "/")):
                    continue
                target = (page.parent / urlsplit(link).path).resolve()
                assert target.exists(), f"{page.relative_to(site)} links to missing {link}"
                fragment = urlsplit(link).fragment
                if anchors and fragment and target.suffix == ".html":  # a history row, say
                    assert fragment in ids_of(target), (
                        f"{page.relative_to(site)} links to {link}: no such anchor")


def seed_log(root: Path, slugs: list[str], count: int, end: datetime,
             every: float = 5) -> None:
    """A long history that has aged out of its pages and data: log lines only.

    ``count`` versions ``every`` minutes apart, ending at ``end``, per dashboard, in
    the log and the manifest (schema 2), as the default tiers leave them once
    they are over 30 days old.
    """
    import json as _json
    from datetime import timedelta

    site = root / "site"
    dashboards = []
    for slug in slugs:
        shards: dict[str, list[str]] = {}
        last: dict[str, str] = {}
        for n in range(count):
            moment = end - timedelta(minutes=every * (count - n))
            vid = moment.strftime("%Y%m%dT%H%M%SZ")
            last = {"id": vid, "collected_at": moment.isoformat(), "status": "ok"}
            line = _json.dumps({**last, "path": f"{slug}/{vid}/", "values": {"count": n}})
            shards.setdefault(moment.date().isoformat(), []).append(line)
        (site / slug / "history").mkdir(parents=True)
        months: dict[str, list[str]] = {}
        for day, lines in shards.items():
            folder = site / slug / "log" / day[:7]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{day[8:]}.jsonl").write_text("\n".join(lines) + "\n")
            months.setdefault(day[:7], []).extend(lines)
        for month, lines in months.items():  # each month's pages, as its builds left them
            for page in range(1, (len(lines) - 1) // 200 + 2):
                name = f"{month}.html" if page == 1 else f"{month}-{page}.html"
                rows, previous = [], None  # each version's row, a day's first with its anchor
                for line in lines[(page - 1) * 200 : page * 200]:
                    entry = _json.loads(line)
                    day = entry["collected_at"][:10]
                    anchor = f' id="d-{day}"' if day != previous else ""
                    previous = day
                    rows.append(f'<tr id="v-{entry["id"]}"><td{anchor}>{entry["id"]}</td></tr>')
                (site / slug / "history" / name).write_text(
                    "<!DOCTYPE html><title>a month</title><table>" + "".join(rows) + "</table>")
        day_after = (end + timedelta(days=1)).date().isoformat()
        dashboards.append({
            "slug": slug, "title": slug, "description": "", "active": True,
            "latest_version": last, "pages_from": day_after, "data_from": day_after,
            "months": [{"month": m, "count": len(lines), "worst": "ok",
                        "days": sorted(d[8:] for d in shards if d.startswith(m))}
                       for m, lines in sorted(months.items())]})
    (site / "manifest.json").write_text(_json.dumps(
        {"schema": 2, "title": "Dashboards", "dashboards": dashboards}))


def seed_versions(root: Path, slug: str, versions: list[tuple[str, datetime]],
                  status: str = "ok", *, errors: dict[str, str] | None = None,
                  collectors: tuple[str, ...] = (), folders: bool = False) -> None:
    """File ``versions`` (id, collected_at) as builds would, without collecting or rendering.

    Each gets its log line and its count in the manifest, through the store
    (with ``folders``, also its folder: ``data.json`` and a stand-in snapshot
    page): a history of hundreds of versions in a moment, on a fresh site or
    on top of a built one. ``collectors`` ran (those in ``errors`` failed).
    The history pages are left to the next real build (its own page and the
    one before it, as ever); its status over time is computed from the log,
    as after an upgrade.
    """
    import json as _json
    import shutil as _shutil

    from dashsite.site.index import write_manifest
    from dashsite.store import layout
    from dashsite.store.version_store import DATA_FILE, DATA_SCHEMA, DashboardRecord, VersionStore
    from dashsite.store.write import SiteFolder

    site = root / "site"
    site.mkdir(parents=True, exist_ok=True)
    store = VersionStore(site)
    manifest = store.load_manifest()
    record = manifest.dashboards.setdefault(slug, DashboardRecord(slug, slug))
    for number, (version, moment) in enumerate(versions):
        document = {
            "schema": DATA_SCHEMA, "dashboard": slug, "title": record.title, "version": version,
            "collected_at": moment.astimezone(UTC).isoformat(), "status": status,
            "data": {"count": number}, "errors": dict(errors or {}),
            "collectors": {name: {"duration": 0.01, "attempts": 1, "ok": name not in (errors or {}),
                                  "collected_at": moment.astimezone(UTC).isoformat()}
                           for name in collectors},
        }
        folder = layout.version_folder(slug, version, moment)
        if folders:
            store.file_version(slug, version, folder, {
                DATA_FILE: _json.dumps(document).encode(),
                "index.html": b"<!DOCTYPE html><title>a seeded version</title>",
            })
        store.append(record, store.record_from_data(slug, document, f"{folder}/"))
    _shutil.rmtree(store.temp_folder(), ignore_errors=True)
    built_at = max(moment for _, moment in versions)
    write_manifest(SiteFolder(site), manifest, built_at, {}, manifest.earlier_files(built_at))


def vdir(site: Path, slug: str, version: str) -> Path:
    """A version's folder: ``<slug>/<day>/<version>`` (or, from the first release, flat)."""
    return next(iter(sorted(site.glob(f"{slug}/*/{version}"))), site / slug / version)


def vrel(site: Path, slug: str, version: str) -> str:
    """``<slug>/<day>/<version>``: where a version sits, relative to the site (a key prefix)."""
    return vdir(site, slug, version).relative_to(site).as_posix()


def count_layouts(monkeypatch) -> Counter[str]:  # type: ignore[no-untyped-def]
    """Slug → how many dashboard pages were drawn in their layout from now on (a check's
    retimed page is not: :mod:`dashsite.site.retime`). In this process only."""
    from dashsite.render import pages

    counts: Counter[str] = Counter()
    draw = pages.wrap_body

    def counting(environment, body, context):  # type: ignore[no-untyped-def]
        counts[context["dashboard"]["slug"]] += 1
        return draw(environment, body, context)

    monkeypatch.setattr(pages, "wrap_body", counting)
    return counts
