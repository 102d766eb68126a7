"""The authoring loop in a real headless chromium against a real serve process."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from projects import build, cli, fixed_clock, vrel, write_project
from servers import CHROMIUM_ARGS, ServeProcess, chromium_path

pytestmark = pytest.mark.slow  # a real chromium

COUNTING_MODULE = """
import pathlib
from dashsite import collector

RUNS = pathlib.Path(__file__).parents[2] / "runs-{slug}.txt"

@collector
def runs():
    count = int(RUNS.read_text()) + 1 if RUNS.exists() else 1
    RUNS.write_text(str(count))
    return count
"""
WAIT = 15_000  # ms: how long expect() may wait for the page to change; not a speed assertion


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_project(tmp_path, {
        "svc": {"dashboard.py": COUNTING_MODULE.format(slug="svc"),
                "template.html": "<p id='msg'>first</p>\n<p id='runs'>{{ runs }}</p>\n"},
        "other": {"dashboard.py": COUNTING_MODULE.format(slug="other"),
                  "template.html": "<p id='msg'>other</p>\n"},
    }, config='title = "Preview test"\n')
    return tmp_path


@pytest.fixture
def serve(project: Path) -> Iterator[ServeProcess]:
    server = ServeProcess(project, "--watch")
    yield server
    code = server.stop()
    assert code == 0, server.err
    assert not any("Traceback" in line for line in server.err), server.err
    assert server.err[-1] == "stopped"
    assert server.preview is not None and not server.preview.exists()


def runs(project: Path, slug: str) -> int:
    return int((project / f"runs-{slug}.txt").read_text())


def save(path: Path, text: str) -> None:
    """Write like an editor would: in place."""
    path.write_text(text)


def test_template_edits_show_up_without_a_manual_reload(
    project: Path, serve: ServeProcess, page: Page
) -> None:
    page.goto(serve.url + "svc/")
    expect(page.locator("#msg")).to_have_text("first")
    page.evaluate("window.__untouched = true")
    template = project / "dashboards" / "svc" / "template.html"
    save(template, "<p id='msg'>second</p>\n<p id='runs'>{{ runs }}</p>\n")
    expect(page.locator("#msg")).to_have_text("second", timeout=WAIT)
    # The page reloaded by itself: the marker set before the edit is gone.
    assert page.evaluate("window.__untouched === undefined")
    assert page.url == serve.url + "svc/"


def test_ten_edits_in_a_row_all_arrive(project: Path, serve: ServeProcess, page: Page) -> None:
    page.goto(serve.url + "svc/")
    template = project / "dashboards" / "svc" / "template.html"
    for n in range(10):
        save(template, f"<p id='msg'>edit {n}</p>\n")
        expect(page.locator("#msg")).to_have_text(f"edit {n}", timeout=WAIT)


def test_a_broken_template_shows_file_and_line_then_recovers(
    project: Path, serve: ServeProcess, page: Page
) -> None:
    page.goto(serve.url + "svc/")
    template = project / "dashboards" / "svc" / "template.html"
    save(template, "<p id='msg'>ok</p>\n{{ missing_thing }}\n")
    expect(page.locator("main")).to_contain_text(
        "dashboards/svc/template.html:2: 'missing_thing' is undefined", timeout=WAIT)
    expect(page.locator("h1")).to_have_text("Build error")
    save(template, "<p id='msg'>fixed</p>\n")
    expect(page.locator("#msg")).to_have_text("fixed", timeout=WAIT)


def test_template_edit_does_not_rerun_collectors_but_module_edit_does(
    project: Path, serve: ServeProcess, page: Page
) -> None:
    page.goto(serve.url + "svc/")
    expect(page.locator("#runs")).to_have_text("1")
    assert (runs(project, "svc"), runs(project, "other")) == (1, 1)
    template = project / "dashboards" / "svc" / "template.html"
    save(template, "<p id='msg'>t2</p>\n<p id='runs'>{{ runs }}</p>\n")
    expect(page.locator("#msg")).to_have_text("t2", timeout=WAIT)
    assert (runs(project, "svc"), runs(project, "other")) == (1, 1)
    module = project / "dashboards" / "svc" / "dashboard.py"
    save(module, module.read_text() + "\n# edited\n")
    expect(page.locator("#runs")).to_have_text("2", timeout=WAIT)
    assert (runs(project, "svc"), runs(project, "other")) == (2, 1)


def test_new_and_removed_dashboards_update_the_index(
    project: Path, serve: ServeProcess, page: Page
) -> None:
    page.goto(serve.url)
    cards = page.locator("li.card h2")
    expect(cards).to_have_text(["Other", "Svc"])
    assert cli(project, "new", "fresh", process=True).returncode == 0
    expect(cards).to_have_text(["Fresh", "Other", "Svc"], timeout=WAIT)
    shutil.rmtree(project / "dashboards" / "other")
    expect(cards).to_have_text(["Fresh", "Svc"], timeout=WAIT)


def test_config_edit_rebuilds_everything(project: Path, serve: ServeProcess, page: Page) -> None:
    page.goto(serve.url)
    expect(page.locator("h1")).to_have_text("Preview test")
    save(project / "dashsite.toml", 'title = "Renamed"\n')
    expect(page.locator("h1")).to_have_text("Renamed", timeout=WAIT)
    assert (runs(project, "svc"), runs(project, "other")) == (2, 2)


def test_atomic_saves_and_delete_then_create(
    project: Path, serve: ServeProcess, page: Page
) -> None:
    page.goto(serve.url + "svc/")
    template = project / "dashboards" / "svc" / "template.html"
    temp = template.with_name(".template.html.swp")
    temp.write_text("<p id='msg'>atomic</p>\n")
    os.replace(temp, template)
    expect(page.locator("#msg")).to_have_text("atomic", timeout=WAIT)
    backup = template.with_name("template.html~")
    os.replace(template, backup)  # vim's backupcopy=no: move away, write anew
    template.write_text("<p id='msg'>recreated</p>\n")
    backup.unlink()
    expect(page.locator("#msg")).to_have_text("recreated", timeout=WAIT)
    assert not any("Error" in line for line in serve.err[-3:]), serve.err


def test_a_burst_of_changes_is_one_rebuild(project: Path, serve: ServeProcess, page: Page) -> None:
    page.goto(serve.url + "svc/")
    before = len(serve.rebuilds())
    folder = project / "dashboards" / "svc"
    for n in range(50):
        (folder / f"partial{n}.html").write_text(str(n))
    save(folder / "template.html", "<p id='msg'>after burst</p>\n")
    expect(page.locator("#msg")).to_have_text("after burst", timeout=WAIT)
    time.sleep(0.5)  # let any straggling rebuild be reported before counting
    assert len(serve.rebuilds()) - before == 1, serve.rebuilds()


def test_preview_never_touches_site(project: Path, serve: ServeProcess, page: Page) -> None:
    page.goto(serve.url + "svc/")
    save(project / "dashboards" / "svc" / "template.html", "<p id='msg'>x</p>")
    expect(page.locator("#msg")).to_have_text("x", timeout=WAIT)
    assert not (project / "site").exists()
    assert "preview" in page.locator("p.meta").first.inner_text()


def test_plain_serve_reloads_when_a_build_swaps_the_site(project: Path, page: Page) -> None:
    assert cli(project, "build", "--version-id", "one", process=True).returncode == 0
    server = ServeProcess(project)
    try:
        page.goto(server.url + "svc/")
        expect(page.locator("p.meta a").first).to_have_text("one")
        assert cli(project, "build", "--version-id", "two", process=True).returncode == 0
        expect(page.locator("p.meta a").first).to_have_text("two", timeout=WAIT)
    finally:
        assert server.stop() == 0


def test_polling_mode_sees_edits_too(project: Path, page: Page) -> None:
    server = ServeProcess(project, "--watch", "--poll")
    try:
        page.goto(server.url + "svc/")
        expect(page.locator("#msg")).to_have_text("first")
        save(project / "dashboards" / "svc" / "template.html", "<p id='msg'>polled</p>\n")
        expect(page.locator("#msg")).to_have_text("polled", timeout=WAIT)
    finally:
        assert server.stop() == 0
    assert not any("Traceback" in line for line in server.err)


def test_built_pages_fit_a_phone_screen_and_use_dark_mode(
    project: Path, browser: Browser
) -> None:
    wide = project / "dashboards" / "svc" / "template.html"
    wide.write_text("{% set t = MonitorTable(['Service', 'Latency', 'Errors', 'Owner']) %}"
                    "{% for n in range(30) %}{% set _ = t.add_row(['service-' ~ n, '12 ms', n, "
                    "'platform-team-with-a-long-name']) %}{% endfor %}{{ t | render }}")
    for n in range(3):
        assert cli(project, "build", "--version-id", f"v{n}", process=True).returncode == 0
    site = project / "site"
    for theme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 390, "height": 800}, color_scheme=theme)
        page = context.new_page()
        snapshot = f"{vrel(site, 'svc', 'v1')}/index.html"
        for path in ("index.html", "svc/index.html", "svc/history/index.html", snapshot):
            page.goto((site / path).as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, (theme, path)
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == ("rgb(255, 255, 255)" if theme == "light" else "rgb(13, 17, 23)")
        context.close()


def test_metric_colours_follow_the_dark_theme(project: Path, browser: Browser) -> None:
    (project / "dashboards" / "svc" / "template.html").write_text(
        "{{ MonitorMetric(9, 'load', 'critical') | render }}"
        "{{ MonitorMetric(1, 'ok', 'ok') | render }}")
    assert cli(project, "build", process=True).returncode == 0
    expected = {"light": ["rgb(130, 7, 30)", "rgb(26, 127, 55)"],
                "dark": ["rgb(255, 123, 114)", "rgb(63, 185, 80)"]}
    for theme, colours in expected.items():
        context = browser.new_context(color_scheme=theme)
        page = context.new_page()
        page.goto((project / "site" / "svc" / "index.html").as_uri())
        found = page.eval_on_selector_all(
            ".metric-value", "els => els.map(e => getComputedStyle(e).color)")
        assert found == colours, theme
        context.close()


WIDE_MARKDOWN = """
| Figure | Value | Change since the last build of this report |
|---|---:|---:|
| Python files in the repository | 12345 | +3 |

{{ Sparkline([1, 3, 2, 5], width=240, height=40, label="Source lines") | render }}

```text
dashsite build   # files a new version; this table compares with the previous one, always
```
"""


def test_a_mailed_dashboard_fits_a_phone_screen(project: Path, browser: Browser) -> None:
    import email
    from email import policy

    (project / "dashboards" / "svc" / "template.html").unlink()
    (project / "dashboards" / "svc" / "template.md").write_text(WIDE_MARKDOWN)
    assert cli(project, "build", process=True).returncode == 0
    out = project / "mail.eml"
    assert cli(project, "mail", "svc", "--to", "a@example.com", "--eml", str(out), process=True).returncode == 0
    message = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    html = project / "mail.html"
    html.write_text(message.get_body(preferencelist=("html",)).get_content())
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(html.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_bundled_examples_pass_axe_in_both_themes_and_on_a_phone(
    tmp_path: Path, browser: Browser
) -> None:
    import subprocess

    from axe_playwright_python.sync_playwright import Axe

    repo = Path(__file__).resolve().parents[1]
    shutil.copytree(repo / "dashboards", tmp_path / "dashboards")
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "dashboards"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=A", "-c", "user.email=a@x",
                    "commit", "--quiet", "-m", "examples"], check=True)
    # Incidents on every page that shows them: a declared one, and a detected one
    # (a collector down on the second build) that the third resolves.
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "upgrade.md").write_text(
        '+++\ntitle = "Database upgrade"\nstart = 2026-11-01T08:00:00Z\n'
        'end = 2026-11-01T09:00:00Z\nseverity = "maintenance"\n+++\nDone in **one** hour.\n')
    flag = tmp_path / "down.flag"
    (tmp_path / "dashboards" / "flaky").mkdir()
    (tmp_path / "dashboards" / "flaky" / "dashboard.py").write_text(
        "from pathlib import Path\nfrom dashsite import collector\n"
        "@collector\ndef api():\n"
        f"    if Path({str(flag)!r}).exists():\n        raise RuntimeError('api down')\n"
        "    return 1\n")
    (tmp_path / "dashboards" / "flaky" / "template.html").write_text("<p>{{ api }}</p>")
    for version in ("v1", "v2", "v3"):
        if version == "v2":
            flag.write_text("")
        elif flag.exists():
            flag.unlink()
        done = cli(tmp_path, "build", "--version-id", version, process=True)
        assert done.returncode == 0, done.stderr
    pages = sorted((tmp_path / "site").rglob("*.html"))
    assert (tmp_path / "site" / "incidents" / "upgrade.html") in pages
    assert 'class="incident level-error"' in (tmp_path / "site" / "flaky" / "index.html").read_text()
    axe = Axe()
    found = []
    for theme in ("light", "dark"):
        for width in (1280, 390):
            context = browser.new_context(
                color_scheme=theme, viewport={"width": width, "height": 800})
            page = context.new_page()
            for path in pages:
                page.goto(path.as_uri())
                for violation in axe.run(page).response["violations"]:
                    found.append((theme, width, str(path.relative_to(tmp_path)),
                                  violation["id"]))
            context.close()
    assert len(pages) > 10
    assert found == []


CHARTS_PAGE = """
<div class="panels">
<section class="panel"><h2>Line</h2>
{{ LineChart({"api": [12, 15, none, 14, 40, 13], "db": [5, 6, 6, 7, 5, 6]}, title="Latency",
             unit="ms", thresholds={"warning": 30}) | render }}</section>
<section class="panel"><h2>Area</h2>
{{ AreaChart([0.2, 0.5, 0.45, 0.9], title="Disk", format="percent") | render }}</section>
<section class="panel"><h2>Bars</h2>
{{ BarChart({"mon": {"api": 3, "db": 1}, "tue": {"api": 5, "db": 2}}, title="Errors",
            stacked=true) | render }}</section>
<section class="panel"><h2>Status</h2>
{{ StatusTimeline(history, title="Status") | render }}</section>
</div>
"""
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def test_charts_fit_a_phone_follow_the_theme_and_leave_screenshots(
    tmp_path: Path, browser: Browser
) -> None:
    write_project(tmp_path, {"charts": {"dashboard.py": "", "template.html": CHARTS_PAGE}})
    for version in ("v1", "v2"):
        assert cli(tmp_path, "build", "--version-id", version, process=True).returncode == 0
    page_path = tmp_path / "site" / "charts" / "index.html"
    ARTIFACTS.mkdir(exist_ok=True)
    strokes = {}
    for theme in ("light", "dark"):
        for width in (1280, 390):
            context = browser.new_context(viewport={"width": width, "height": 900},
                                          color_scheme=theme)
            page = context.new_page()
            page.goto(page_path.as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (theme, width)
            assert page.locator("figure.chart svg").count() == 4
            widths = page.eval_on_selector_all(
                "figure.chart svg", "els => els.map(e => e.getBoundingClientRect().width)")
            assert all(0 < w <= width for w in widths), widths
            strokes[theme] = page.eval_on_selector(
                ".chart-line.chart-series-1", "e => getComputedStyle(e).stroke")
            text = page.eval_on_selector(".chart-frame", "e => getComputedStyle(e).color")
            assert text == ("rgb(87, 96, 106)" if theme == "light" else "rgb(145, 152, 161)")
            # bytes, written here: playwright's own file writing leaves executor threads
            shot = page.screenshot(full_page=True)
            (ARTIFACTS / f"charts-{theme}-{width}.png").write_bytes(shot)
            context.close()
    assert strokes == {"light": "rgb(9, 105, 218)", "dark": "rgb(68, 147, 248)"}


def test_a_day_bar_shows_its_label_on_hover_and_keyboard_focus(
    project: Path, browser: Browser
) -> None:
    (project / "dashsite.toml").write_text('expected_every = "1d"\n')
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(3):
        build(project, version_id=f"d{n}", clock=fixed_clock(now - timedelta(days=2 - n)))
    context = browser.new_context(viewport={"width": 700, "height": 600})
    page = context.new_page()
    page.goto((project / "site" / "svc" / "index.html").as_uri())
    bars = page.locator("ol.day-bars > li")
    assert bars.count() == 90
    for index in (0, 45, 89):  # the first, a middle and the last: each stays on screen
        label = bars.nth(index).locator(".visually-hidden")
        assert label.bounding_box()["width"] <= 1  # hidden until asked for
        bars.nth(index).hover()
        box = label.bounding_box()
        assert box["width"] > 100 and box["x"] >= 0 and box["x"] + box["width"] <= 700, index
        assert box["y"] + box["height"] <= bars.nth(index).bounding_box()["y"]  # above the bar
    assert bars.nth(89).inner_text().endswith("ok, 1 version, uptime 100 %")
    page.mouse.move(690, 590)  # away: hidden again
    assert bars.nth(89).locator(".visually-hidden").bounding_box()["width"] <= 1
    context.close()
    context = browser.new_context(viewport={"width": 700, "height": 600})
    page = context.new_page()  # no pointer used: keyboard focus shows it too
    page.goto((project / "site" / "svc" / "index.html").as_uri())
    link = page.locator("ol.day-bars a.day-focus").last
    link.focus()
    assert link.locator(".visually-hidden").bounding_box()["width"] > 100
    context.close()
