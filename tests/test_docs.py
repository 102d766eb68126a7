"""The docs site: its generated pages are current, its JSON Schemas describe what dashsite
writes, every internal link in the built site resolves, and three pages pass axe."""

from __future__ import annotations

import copy
import functools
import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote, urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from projects import T0, build, cli, fixed_clock, manifest_entries, write_project

from htmltree import parse

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "docs" / "reference" / "schemas"
GOLDEN = ROOT / "tests" / "golden" / "expected"
FIXTURES = ROOT / "tests" / "fixtures"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _problems(name: str, document: object) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator(name).iter_errors(document)
    ]


def _assert_site_valid(site: Path) -> tuple[int, int]:
    """Every manifest.json and data.json of ``site`` against its schema; how many of each."""
    manifest = json.loads((site / "manifest.json").read_text())
    assert _problems("manifest", manifest) == []
    documents = sorted(site.glob("*/**/data.json"))
    for path in documents:
        assert _problems("data", json.loads(path.read_text())) == [], path
    return 1, len(documents)


# --- generated pages ---------------------------------------------------------------------


def test_every_generated_reference_page_is_current() -> None:
    """The CLI, settings and API pages equal what the code generates now."""
    stale = [
        str(page.relative_to(ROOT))
        for page, text in _script("docs_reference").expected_pages().items()
        if not page.is_file() or page.read_text(encoding="utf-8") != text
    ]
    assert stale == [], "run: python scripts/docs_reference.py"


def test_the_cli_page_names_every_command_and_option() -> None:
    import argparse

    generator = _script("docs_reference")
    text = (ROOT / "docs" / "reference" / "cli.md").read_text()
    main = generator.console_parser()
    commands = next(a for a in main._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        assert f"## `dashsite {name}`" in text, name
        for action in sub._actions:
            for flag in action.option_strings:
                assert f"`{flag}`" in text, (name, flag)


def test_a_stale_generated_block_is_found(tmp_path: Path) -> None:
    generator = _script("docs_reference")
    page = tmp_path / "cli.md"
    page.write_text("intro\n<!-- cli:start -->\nold\n<!-- cli:end -->\nafter\n")
    generator.ROOT = tmp_path
    replaced = generator.replace_block(page.read_text(), "cli", "new", page)
    assert replaced == "intro\n<!-- cli:start -->\nnew\n<!-- cli:end -->\nafter\n"
    with pytest.raises(SystemExit, match="no <!-- settings:start/end --> markers"):
        generator.replace_block(page.read_text(), "settings", "x", page)


# --- JSON Schemas ------------------------------------------------------------------------


def test_the_schemas_validate_the_golden_site() -> None:
    _manifests, documents = _assert_site_valid(GOLDEN)
    assert documents >= 3  # (the notes did not change: v2 is a check of v1)


def test_the_schemas_reject_a_changed_format() -> None:
    """A field the schema does not know, or one it requires gone, fails: a format change
    needs its schema changed with it."""
    manifest = json.loads((GOLDEN / "manifest.json").read_text())
    added = copy.deepcopy(manifest)
    added["dashboards"][0]["new_field"] = 1
    assert _problems("manifest", added)
    removed = copy.deepcopy(manifest)
    del removed["dashboards"][0]["latest"]["path"]
    assert _problems("manifest", removed)
    wrong = copy.deepcopy(manifest)
    wrong["dashboards"][0]["status"] = "fine"
    assert _problems("manifest", wrong)
    data = json.loads(next(GOLDEN.glob("*/*/*/data.json")).read_text())
    assert _problems("data", {**data, "extra": True})
    assert _problems("data", {**data, "collectors": {"x": {"duration": 1, "ok": True}}})


@pytest.mark.parametrize("fixture", ["schema1", "schema2", "schema3"])
def test_the_fixtures_data_json_is_current_and_their_old_manifests_are_refused(
    fixture: str, tmp_path: Path
) -> None:
    """data.json has been schema 1 since the first release: every fixture's validates.
    Their manifests are older schemas, which the schema refuses by its version alone;
    one build with today's code upgrades the site to a manifest the schema accepts."""
    site = FIXTURES / fixture / "site"
    documents = sorted(site.rglob("data.json"))
    assert documents
    for path in documents:
        assert _problems("data", json.loads(path.read_text())) == [], path
    old = json.loads((site / "manifest.json").read_text())
    assert old["schema"] in (1, 2, 3)
    assert any(p.startswith("schema: ") for p in _problems("manifest", old))
    project = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, project)
    done = cli(project, "build", "--version-id", "upgraded")
    assert done.returncode in (0, 1), done.stderr
    _assert_site_valid(project / "site")


FRESH_MODULE = """
from datetime import UTC, datetime
from pathlib import Path

from dashsite import MonitorTable, StatusCell, StatusLevel, collector

EXPECTED_EVERY = "1h"

@collector
def api():
    if (Path(__file__).parent / "down").exists():
        raise RuntimeError("api down")
    return StatusCell("UP", StatusLevel.OK)

@collector(every="1d")
def slow():
    return {"$kind": "not a type", "when": datetime(2026, 11, 1, tzinfo=UTC), "n": [1, 2.5, None]}

@collector
def table():
    t = MonitorTable(["a", "b"], title="T")
    t.add_row(["x", StatusCell("DOWN", StatusLevel.CRITICAL)])
    return t
"""


def test_the_schemas_validate_a_freshly_built_site(tmp_path: Path) -> None:
    """Over two months, with a failure (an incident), a value reused under `every`, a
    datetime and a dict holding "$kind", render types, and finished months linked
    from the manifest."""
    write_project(tmp_path, {"svc": {"dashboard.py": FRESH_MODULE,
                                     "template.html": "{{ api }} {{ slow }} {{ table }}"},
                             "plain": {"dashboard.py": "from dashsite import collector\n"
                                                       "@collector\ndef n():\n    return 1\n",
                                       "template.md": "# {{ n }}"}},
                  config='unchanged = "version"\n')  # (a3 reuses `slow`: filed as a version)
    october = T0 - timedelta(days=40)
    build(tmp_path, version_id="a1", clock=fixed_clock(october))
    (tmp_path / "dashboards" / "svc" / "down").write_text("")
    build(tmp_path, version_id="a2", clock=fixed_clock(T0))
    build(tmp_path, version_id="a3", clock=fixed_clock(T0 + timedelta(minutes=5)))
    svc = manifest_entries(tmp_path / "site")["svc"]
    assert svc["incident"] is not None and "earlier" in svc
    data = json.loads((tmp_path / "site" / svc["latest"]["path"] / "data.json").read_text())
    assert data["collectors"]["slow"].get("reused") is True
    _assert_site_valid(tmp_path / "site")


# --- the built docs site -----------------------------------------------------------------


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mkdocs build --strict`` of this repository's docs, into a temporary folder."""
    out = tmp_path_factory.mktemp("docs-site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr
    return out


def _ids(page: Path) -> set[str]:
    return {node.attrs["id"] for node in parse(page.read_text()).iter() if node.attrs.get("id")}


def test_every_internal_link_in_the_built_docs_resolves(docs_site: Path) -> None:
    """Every href and src of every page leads to a file of the site, and every #fragment
    to an id on that page; only the demo (built after mkdocs, by scripts/docs_demo.py)
    is outside it."""
    ids: dict[Path, set[str]] = {}
    broken, checked = [], 0
    pages = sorted(docs_site.rglob("*.html"))
    assert len(pages) > 30
    for page in pages:
        for node in parse(page.read_text()).iter():
            for attribute in ("href", "src"):
                link = node.attrs.get(attribute)
                if not link:
                    continue
                parts = urlsplit(link)
                if parts.scheme or parts.netloc or link.startswith("mailto:"):
                    continue
                checked += 1
                base = docs_site if parts.path.startswith("/") else page.parent  # 404.html
                target = (base / unquote(parts.path).lstrip("/")).resolve() if parts.path else page
                if target.is_dir():
                    target = target / "index.html"
                if parts.path.startswith("demo/") and page.parent == docs_site:
                    continue  # the live demo: scripts/docs_demo.py writes it after mkdocs
                if not target.is_file():
                    broken.append(f"{page.relative_to(docs_site)}: {link}")
                    continue
                if parts.fragment and target.suffix == ".html":
                    if target not in ids:  # parsed once (setdefault would parse every time)
                        ids[target] = _ids(target)
                    found = ids[target]
                    if unquote(parts.fragment) not in found:
                        broken.append(f"{page.relative_to(docs_site)}: {link} (no such id)")
    assert checked > 500
    assert broken == []


def test_the_home_page_links_the_live_demo(docs_site: Path) -> None:
    links = [n.attrs.get("href") for n in parse((docs_site / "index.html").read_text()).iter()]
    assert "demo/index.html" in links


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def docs_server(docs_site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(docs_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.slow
def test_three_docs_pages_pass_axe(docs_server: str) -> None:
    """Home, the tutorial and a reference page, in light and dark, in a real chromium."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    from servers import CHROMIUM_ARGS, chromium_path

    found = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for theme in ("light", "dark"):
                context = browser.new_context(color_scheme=theme)
                page = context.new_page()
                for path in ("index.html", "tutorial.html", "reference/cli.html"):
                    page.goto(docs_server + path)
                    assert page.title()
                    for violation in Axe().run(page).response["violations"]:
                        found.append((theme, path, violation["id"],
                                      [n["target"] for n in violation["nodes"]][:3]))
                context.close()
        finally:
            browser.close()

    assert found == [], json.dumps(sorted({(f[0], f[2], str(f[3])) for f in found}), indent=0)


# --- the README and the demo ------------------------------------------------------------

# Committed by the screenshot work (tests/ that shoot the bundled examples); merged with this.
PENDING_FILES = {"docs/img/index.png"}


def test_the_readme_is_short_and_its_links_resolve() -> None:
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links
    missing = [
        link for link in links
        if not urlsplit(link).scheme and not (ROOT / urlsplit(link).path).exists()
        and urlsplit(link).path not in PENDING_FILES
    ]
    assert missing == []


@pytest.mark.slow
def test_the_demo_shows_a_history_with_incidents(tmp_path: Path) -> None:
    """scripts/docs_demo.py: the example dashboards over a seeded 90 days, built whole."""
    from projects import assert_site_whole

    out = tmp_path / "demo"
    _script("docs_demo").build_demo(out)
    assert_site_whole(out)
    _assert_site_valid(out)
    manifest = json.loads((out / "manifest.json").read_text())
    slugs = {d["slug"] for d in manifest["dashboards"]}
    assert slugs == {p.name for p in (ROOT / "dashboards").iterdir() if p.is_dir()}
    for dashboard in manifest["dashboards"]:
        assert dashboard["count"] > 80 * 24  # the seeded hours and the real builds
        assert "earlier" in dashboard  # finished months, linked from the manifest
    page = (out / "machine-health" / "index.html").read_text()
    assert "incident" in page and "Uptime" in page
    assert (out / "incidents" / "disk-replacement.html").is_file()
    feed = (out / "feed.xml").read_text()
    assert feed.count("<entry>") >= 3  # the seeded outages and the maintenance


def test_the_performance_table_is_written_from_bench_results() -> None:
    """When `make bench` has written bench/results.json, the page's table comes from it."""
    generator = _script("docs_reference")
    results = {"machine": "2-core test machine, 2026-12-03", "rows": [
        {"figure": "build 1000 dashboards", "dashsite": 4.67, "baseline": 0.17,
         "baseline_name": "bare loop", "unit": "s", "goal": "within 3 times", "met": False,
         "note": ""},
        {"figure": "a|b", "dashsite": None, "baseline": None, "baseline_name": "", "unit": "",
         "goal": "", "met": None, "note": "n"}]}
    table = generator.bench_reference(results)
    assert table.startswith("One run of `make bench` on 2-core test machine, 2026-12-03:")
    assert "| build 1000 dashboards | 4.67 s | bare loop 0.17 s | within 3 times ✘ |  |" in table
    assert "| a\\|b |" in table
    page = (ROOT / "docs" / "explanation" / "performance.md").read_text()
    assert "<!-- bench:start -->" in page and "<!-- bench:end -->" in page
