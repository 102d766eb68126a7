"""A check's latest page is the previous one retimed, when nothing else on it moved.

After every build, the page a site with its state folder wrote is byte for byte the page
a build without it (which draws every page) writes: across steady checks, a degraded
spell, an outage, declared maintenance, midnight, templates whose body moves with the
build, a shared layout and a page edited by hand.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashsite.render import pages
from dashsite.site.retime import Drawn, retimed
from projects import T0, build, count_layouts, fixed_clock, logged_checks, write_project

from htmltree import parse

MODULE = """
from pathlib import Path
from dashsite import collector, StatusCell, StatusLevel

MODE = Path(__file__).parent.parent / "mode.txt"

@collector
def status():
    mode = MODE.read_text().strip() if MODE.exists() else "ok"
    if mode == "down":
        raise RuntimeError("unreachable")
    return StatusCell(mode.upper(), {"ok": StatusLevel.OK, "slow": StatusLevel.WARNING}[mode])

@collector
def value():
    return 7
"""

TEMPLATES = {
    "values": "<p id='v'>{{ status | render }} {{ value }}</p>",
    "moving": "<p id='v'>{{ value }} at {{ build.collected_at | timestamp }}</p>",
    "others": "<p id='v'>{{ value }} of {{ site.dashboards | length }}</p>",
}

MAINTENANCE = """\
+++
title = "Planned work"
dashboards = ["values", "moving", "others"]
start = 2026-11-27T21:10:00Z
end = 2026-11-27T21:30:00Z
severity = "maintenance"
+++
Planned.
"""


@pytest.fixture
def wrapped(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many latest pages each dashboard's layout drew (not retimed), by slug."""
    return count_layouts(monkeypatch)


def _project(root: Path) -> Path:
    dashboards = {
        slug: {"dashboard.py": MODULE, "template.html": template}
        for slug, template in TEMPLATES.items()
    }
    return write_project(root, dashboards, config='expected_every = "5m"\n')


def _twin(root: Path, twin: Path) -> None:
    """``root`` as it is, without its state folder: a build there draws every page."""
    shutil.rmtree(twin, ignore_errors=True)
    shutil.copytree(root, twin, symlinks=True)
    shutil.rmtree(twin / ".dashsite", ignore_errors=True)


def _step(root: Path, twin: Path, n: int, moment: datetime, mode: str) -> None:
    _twin(root, twin)
    for folder in (root, twin):
        (folder / "dashboards" / "mode.txt").write_text(mode)
        result = build(folder, version_id=moment.strftime("%Y%m%dT%H%M%SZ"),
                       clock=fixed_clock(moment))  # fmt: skip
        assert not result.problems, result.problems


STEPS = [("ok", 0), ("ok", 5), ("ok", 10), ("ok", 15), ("slow", 20), ("slow", 25), ("ok", 30),
         ("ok", 35), ("down", 40), ("down", 45), ("ok", 50), ("ok", 55), ("ok", 60), ("ok", 65),
         ("ok", 70), ("ok", 75), ("ok", 80), ("ok", 220), ("ok", 225), ("ok", 230), ("ok", 235),
         ("ok", 240)]  # fmt: skip
"""(mode, minutes after T0, at 20:15): midnight falls before the last four."""


@pytest.mark.parametrize("jobs", [1, 3])
def test_a_retimed_page_is_the_page_a_fresh_build_draws(
    tmp_path: Path, wrapped: Counter[str], jobs: int
) -> None:
    """With ``jobs = 3``, each dashboard is filed in a worker process: what its check drew
    the page from is handed back, kept, and used by the next build's worker."""
    root = _project(tmp_path / "site-a")
    twin = tmp_path / "site-b"
    drawn: list[Counter[str]] = []
    for n, (mode, minutes) in enumerate(STEPS):
        if n == 11:  # maintenance declared from 21:10 (step 12) to 21:30
            (root / "incidents").mkdir()
            (root / "incidents" / "work.md").write_text(MAINTENANCE)
        wrapped.clear()
        moment = T0 + timedelta(minutes=minutes)
        _twin(root, twin)
        for folder in (root, twin):
            (folder / "dashboards" / "mode.txt").write_text(mode)
            build(folder, version_id=moment.strftime("%Y%m%dT%H%M%SZ"),
                  clock=fixed_clock(moment), jobs=jobs if folder == root else 1)  # fmt: skip
            if folder == root:
                drawn.append(Counter(wrapped))
                state = next((root / ".dashsite").glob("*live.json")).read_text()
                kept_from = {line.split("\t")[0] for line in state.splitlines()}
                if n in (1, 2, 3):  # the checks' pages: what they were drawn from is kept
                    assert {"!values", "!others", "!moving"} <= kept_from, n
        for slug in TEMPLATES:
            kept = (root / "site" / slug / "index.html").read_text()
            fresh = (twin / "site" / slug / "index.html").read_text()
            assert kept == fresh, (n, slug)
    assert {check[:8] for check, _ in logged_checks(root / "site")["values"]} == {
        "20261127",
        "20261128",
    }
    # steady checks were retimed, not drawn: the two after the first check of a run
    # retimed, not drawn: steady checks after the first check of a run drew the page. Not:
    # a version, the first check after it, an incident going on (maintenance too: its
    # duration shows), uptime that still moves (24 h after the outage), a gap
    retimed = {
        slug: [n for n, counts in enumerate(drawn) if not counts[slug]] for slug in TEMPLATES
    }
    if jobs == 1:  # (else drawn in the workers, not counted here)
        assert retimed == {"values": [2, 3], "others": [2, 3], "moving": []}
    meta = " ".join(parse((root / "site/values/index.html").read_text())
                    .find("p", class_="meta").text().split())  # fmt: skip
    assert meta.startswith(
        "Collected 2026-11-28 00:15 UTC · unchanged since version 20261128T000000Z"
    )


def test_a_page_edited_since_is_drawn_again(tmp_path: Path, wrapped: Counter[str]) -> None:
    root = _project(tmp_path / "site-a")
    twin = tmp_path / "site-b"
    for n in range(3):
        _step(root, twin, n, T0 + timedelta(minutes=5 * n), "ok")
    page = root / "site" / "values" / "index.html"
    page.write_text(page.read_text().replace("</main>", "<p>edited</p></main>"))
    wrapped.clear()
    _step(root, twin, 3, T0 + timedelta(minutes=15), "ok")
    assert wrapped["values"] == 2  # (and the twin's)
    assert page.read_text() == (twin / "site" / "values" / "index.html").read_text()
    assert "edited" not in page.read_text()


def test_a_page_a_pull_brought_back_is_retimed(tmp_path: Path, wrapped: Counter[str]) -> None:
    """A CI runner pulls the published site into a fresh checkout and keeps only
    ``.dashsite/site.live.json``: the pages it pulled are the ones the last check drew,
    byte for byte, so the next check retimes them."""
    root = _project(tmp_path / "site-a")
    twin = tmp_path / "site-b"
    for n in range(2):
        _step(root, twin, n, T0 + timedelta(minutes=5 * n), "ok")
    site = root / "site"
    shutil.copytree(site, tmp_path / "pulled")  # another folder: what the last build
    shutil.rmtree(site)  # wrote is not known (written.json goes by the site's folder)
    (tmp_path / "pulled").rename(site)
    (root / ".dashsite" / "site.written.json").unlink(missing_ok=True)
    wrapped.clear()
    _step(root, twin, 2, T0 + timedelta(minutes=10), "ok")
    assert wrapped["values"] == 1  # the twin's: the project's page was retimed
    assert (site / "values" / "index.html").read_text() == (
        twin / "site" / "values" / "index.html"
    ).read_text()


def test_a_shared_layout_of_the_sites_own_draws_every_page(
    tmp_path: Path, wrapped: Counter[str]
) -> None:
    root = _project(tmp_path / "site-a")
    layouts = root / "dashboards" / "_layouts"
    layouts.mkdir()
    theme = Path(pages.__file__).parent.parent / "theme" / "dashboard.html"
    (layouts / "dashboard.html").write_text(
        theme.read_text().replace("</article>", "<p>{{ build.collected_at.second }}</p></article>")
    )
    twin = tmp_path / "site-b"
    for n in range(4):
        wrapped.clear()
        _step(root, twin, n, T0 + timedelta(minutes=5 * n, seconds=n), "ok")
        assert wrapped["values"] == (4 if n == 0 else 2)  # root's and the twin's: drawn
        page = (root / "site" / "values" / "index.html").read_text()
        assert page == (twin / "site" / "values" / "index.html").read_text()
        assert f"<p>{n}</p>" in page


def test_retimed_replaces_the_two_times_where_the_theme_writes_them() -> None:
    was = Drawn("k", datetime(2026, 11, 27, 20, 20, 5, tzinfo=UTC),
                datetime(2026, 11, 27, 20, 20, 9, tzinfo=UTC), "h")  # fmt: skip
    page = (
        '<p class="meta">Collected <time datetime="2026-11-27T20:20:05Z" '
        'data-stale-after="600">2026-11-27 20:20 UTC</time> · unchanged since '
        '<time datetime="2026-11-27T20:15:00Z">2026-11-27 20:15 UTC</time></p>'
        '<footer><p>Built <time datetime="2026-11-27T20:20:09Z">2026-11-27 20:20 UTC</time> '
        "with dashsite</p></footer>"
    )
    later = datetime(2026, 11, 27, 20, 25, 3, tzinfo=UTC)
    built = datetime(2026, 11, 27, 20, 25, 8, tzinfo=UTC)
    found = retimed(page, was, later, built)
    assert found is not None
    tree = parse(found)
    times = [(t.attrs["datetime"], t.text()) for t in tree.find_all("time")]
    assert times == [
        ("2026-11-27T20:25:03Z", "2026-11-27 20:25 UTC"),
        ("2026-11-27T20:15:00Z", "2026-11-27 20:15 UTC"),
        ("2026-11-27T20:25:08Z", "2026-11-27 20:25 UTC"),
    ]
    assert tree.find("time").attrs["data-stale-after"] == "600"
    doubled = page.replace("<footer>", page[: page.index(" ·")] + "<footer>")
    assert retimed(doubled, was, later, built) is None  # twice: drawn, not guessed
    assert retimed(page, Drawn("k", later, built, "h"), later, built) is None  # other times
    assert Drawn.from_text(was.to_text()) == was
    assert Drawn.from_text("damaged") is None
    assert Drawn.from_text(was.to_text().rpartition(" ")[0]) is None  # (an older line)


ORDERED = """
from pathlib import Path
from dashsite import collector

ORDER = Path(__file__).with_name("order.txt")

@collector
def services():
    names = ["api", "db", "web"]
    return {name: "up" for name in (names[::-1] if ORDER.exists() else names)}
"""


def test_a_body_whose_values_moved_where_their_stored_form_did_not_is_drawn(
    tmp_path: Path, wrapped: Counter[str]
) -> None:
    """The same data stored (a dict's keys are stored sorted), another order shown: the
    check's body is rendered and compared, so its page is drawn, not retimed."""
    template = "<ol>{% for name, state in services.items() %}<li>{{ name }}</li>{% endfor %}</ol>"
    root = write_project(tmp_path / "site-a", {"ordered": {"dashboard.py": ORDERED,
                         "template.html": template}}, config='expected_every = "5m"\n')  # fmt: skip
    twin = tmp_path / "site-b"
    for n in range(5):
        if n == 3:
            (root / "dashboards" / "ordered" / "order.txt").write_text("reversed")
        wrapped.clear()
        _step(root, twin, n, T0 + timedelta(minutes=5 * n), "ok")
        page = (root / "site" / "ordered" / "index.html").read_text()
        assert page == (twin / "site" / "ordered" / "index.html").read_text(), n
        if n >= 1:
            assert "unchanged since" in page  # (a check each time: the stored data is the same)
        body = parse(page).find("div", class_="dashboard-body")
        shown = [li.text() for li in body.find("ol").find_all("li")]
        assert shown == (["web", "db", "api"] if n >= 3 else ["api", "db", "web"])
        drawn_here = {0: 2, 1: 1, 2: 0, 3: 1, 4: 0}[n]  # a version draws two, a retime none
        assert wrapped["ordered"] == drawn_here + (2 if n == 0 else 1)  # (and the twin's)
