"""The preview server over raw HTTP, the change batcher, and the preview builder."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dashsite.preview.builder import PreviewBuilder
from dashsite.preview.server import is_local
from dashsite.preview.watch import ChangeBatcher, FileChange, is_noise
from projects import (
    build,
    cli,
    fixed_clock,
    seed_log,
    seed_versions,
    simple,
    tree_digest,
    write_project,
)
from servers import ServeProcess

from htmltree import parse


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One ``serve --watch`` process for the tests that only send it requests (a built
    site beside it: what the preview lacks is read from there, never from further out)."""
    tmp_path = tmp_path_factory.mktemp("served")
    write_project(tmp_path / "project", {"svc": simple("Service")})
    assert cli(tmp_path / "project", "build").returncode == 0
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    (tmp_path / "project" / "secret.txt").write_text("TOP SECRET")
    server = ServeProcess(tmp_path / "project", "--watch")
    yield server
    assert server.stop() == 0


def _send(url: str, target: str, host: str) -> bytes:
    """Send a request line exactly as given (no client-side normalisation); the raw reply."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                     .encode("latin-1"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def raw_get(url: str, target: str) -> tuple[int, str]:
    """The status and the whole reply (headers and body) as text."""
    response = _send(url, target, urlsplit(url).netloc).decode("utf-8", "replace")
    return int(response.split(" ", 2)[1]), response


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2e%2e/secret.txt",
        "/svc/..%2f..%2fsecret.txt",
        "/svc/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/..\\secret.txt",
        "/%5c..%5csecret.txt",
        "//etc/passwd",
        "/etc/passwd",
        "/%2fetc%2fpasswd",
        "/..%00/secret.txt",
    ],
)
def test_no_request_path_leaves_the_preview_folder(served: ServeProcess, target: str) -> None:
    status, response = raw_get(served.url, target)
    assert status in {400, 403, 404}, (target, status)
    assert "TOP SECRET" not in response and "root:" not in response


def test_pages_get_the_livereload_script_and_others_do_not(served: ServeProcess) -> None:
    status, response = raw_get(served.url, "/svc/")
    assert status == 200
    head = parse(response.split("\r\n\r\n", 1)[1]).find("head")
    sources = [s.attrs.get("src") for s in head.find_all("script")]
    assert any(src and src.startswith("/livereload.js?port=") for src in sources)
    assert "Cache-Control: no-store" in response
    css = raw_get(served.url, "/" + next(
        link.attrs["href"].lstrip("./") for link in head.find_all("link")
    ).replace("../", ""))
    assert css[0] == 200 and "livereload" not in css[1]
    js_status, js = raw_get(served.url, "/livereload.js")
    assert js_status == 200 and "LiveReload" in js


def test_no_directory_listing(served: ServeProcess) -> None:
    status, response = raw_get(served.url, "/assets/")
    assert status in {403, 404}
    assert "style." not in response


def test_non_loopback_hosts_are_flagged() -> None:
    assert is_local("127.0.0.1") and is_local("localhost") and is_local("::1")
    assert not is_local("0.0.0.0") and not is_local("192.0.2.1")


# -- the batcher, fed with scripted changes -------------------------------------


def test_a_burst_becomes_one_batch(tmp_path: Path) -> None:
    batcher = ChangeBatcher(quiet=0.05, max_wait=5)
    for n in range(50):
        batcher.add(tmp_path / f"f{n}")
        batcher.add(tmp_path / "same")
    batch = batcher.next_batch()
    assert batch is not None and len(batch) == 51
    assert all(change.deleted for change in batch)  # none of them exist


def test_delete_then_create_reads_as_a_change(tmp_path: Path) -> None:
    target = tmp_path / "template.html"
    batcher = ChangeBatcher(quiet=0.01)
    batcher.add(target)  # deleted...
    target.write_text("x")  # ...and created again before the batch is taken
    assert batcher.next_batch() == [FileChange(target, deleted=False)]


def test_a_steady_stream_still_yields_within_max_wait(tmp_path: Path) -> None:
    batcher = ChangeBatcher(quiet=0.2, max_wait=0.3)
    stop = threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            batcher.add(tmp_path / "busy")
            time.sleep(0.01)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        assert batcher.next_batch() == [FileChange(tmp_path / "busy", deleted=True)]
    finally:
        stop.set()
        writer.join()


def test_close_ends_next_batch() -> None:
    batcher = ChangeBatcher()
    threading.Timer(0.05, batcher.close).start()
    assert batcher.next_batch() is None


@pytest.mark.parametrize(
    ("name", "noise"),
    [
        ("template.html", False), ("dashboard.py", False), (".template.html.swp", True),
        ("template.html~", True), ("4913", True), (".#template.html", True),
        ("#template.html#", True), ("x.pyc", True), (".index.html.abc.tmp", True),
        ("__pycache__/dashboard.cpython-311.pyc", True), (".git/index", True),
    ],
)
def test_editor_noise_is_ignored(tmp_path: Path, name: str, noise: bool) -> None:
    assert is_noise(tmp_path / name) is noise


# -- the preview builder, fed with scripted changes ------------------------------

COUNTER = """
import pathlib
from dashsite import collector
RUNS = pathlib.Path(__file__).with_name("runs.txt")

@collector
def runs():
    n = int(RUNS.read_text()) + 1 if RUNS.exists() else 1
    RUNS.write_text(str(n))
    return n
"""


def runs_of(root: Path, slug: str) -> int:
    return int((root / "dashboards" / slug / "runs.txt").read_text())


@pytest.fixture
def builder(tmp_path: Path) -> PreviewBuilder:
    root = tmp_path / "project"
    write_project(root, {
        "a": {"dashboard.py": COUNTER, "template.html": "<p id='v'>a {{ runs }}</p>"},
        "b": {"dashboard.py": COUNTER, "template.html": "<p id='v'>b {{ runs }}</p>"},
    })
    (root / "dashboards" / "_layouts").mkdir()
    built = PreviewBuilder(root, tmp_path / "preview")
    first = built.full()
    assert set(first.collected) == {"a", "b"}
    return built


def page_text(builder: PreviewBuilder, slug: str) -> str:
    return parse((builder.out.path / slug / "index.html").read_text()).find("p", id="v").text()


def test_template_change_rerenders_one_dashboard_without_collecting(
    builder: PreviewBuilder,
) -> None:
    root = builder.root
    template = root / "dashboards" / "a" / "template.html"
    template.write_text("<p id='v'>A2 {{ runs }}</p>")
    other_before = (builder.out.path / "b" / "index.html").stat().st_mtime_ns
    result = builder.apply([FileChange(template)])
    assert result is not None
    assert result.collected == () and result.rendered == ("a/index.html",)
    assert page_text(builder, "a") == "A2 1"
    assert (builder.out.path / "b" / "index.html").stat().st_mtime_ns == other_before
    assert (runs_of(root, "a"), runs_of(root, "b")) == (1, 1)


def test_module_or_helper_change_recollects_that_dashboard_only(builder: PreviewBuilder) -> None:
    root = builder.root
    helper = root / "dashboards" / "b" / "helpers.py"
    helper.write_text("X = 1\n")
    result = builder.apply([FileChange(helper)])
    assert result is not None and result.collected == ("b",)
    assert (runs_of(root, "a"), runs_of(root, "b")) == (1, 2)
    assert page_text(builder, "b") == "b 2"


def test_layout_change_rerenders_all_without_collecting(builder: PreviewBuilder) -> None:
    root = builder.root
    layout = root / "dashboards" / "_layouts" / "base.html"
    layout.write_text("<!DOCTYPE html><html><head><title>t</title></head><body>"
                      "<div id='custom'>{% block content %}{% endblock %}</div></body></html>")
    result = builder.apply([FileChange(layout)])
    assert result is not None and result.collected == ()
    assert set(result.rendered) == {"a/index.html", "b/index.html"}
    page = parse((builder.out.path / "a" / "index.html").read_text())
    assert page.find("div", id="custom").find("p", id="v").text() == "a 1"


def test_irrelevant_changes_do_nothing(builder: PreviewBuilder, tmp_path: Path) -> None:
    assert builder.apply([FileChange(tmp_path / "elsewhere.txt")]) is None


def test_errors_show_on_the_page_and_clear_when_fixed(builder: PreviewBuilder) -> None:
    root = builder.root
    module = root / "dashboards" / "a" / "dashboard.py"
    module.write_text("import nope_not_here\n")
    result = builder.apply([FileChange(module)])
    assert result is not None
    assert result.problems == (
        "dashboards/a/dashboard.py:1: import error while loading: No module named "
        "'nope_not_here' — fix the module or install what it imports",
    )
    error_page = parse((builder.out.path / "a" / "index.html").read_text())
    assert "dashboards/a/dashboard.py:1" in error_page.find("main").text()
    card = parse((builder.out.path / "index.html").read_text()).find("li", id="card-a")
    assert card.find("span", class_="status-failed").text() == "Failed to load"
    module.write_text(COUNTER)
    fixed = builder.apply([FileChange(module)])
    assert fixed is not None and fixed.problems == ()
    assert page_text(builder, "a").startswith("a ")


def test_a_template_error_names_the_template_from_the_project(builder: PreviewBuilder) -> None:
    template = builder.root / "dashboards" / "a" / "template.html"
    template.write_text("<p>fine</p>\n{{ runs.no_such_thing.deeper }}\n")
    result = builder.apply([FileChange(template)])
    assert result is not None
    main = parse((builder.out.path / "a" / "index.html").read_text()).find("main").text()
    assert "dashboards/a/template.html:2: " in main
    assert str(builder.root) not in main, main  # the page a browser shows names no home folder


def test_an_index_layout_error_names_it_from_the_project_and_is_told(
    builder: PreviewBuilder,
) -> None:
    layout = builder.root / "dashboards" / "_layouts" / "index.html"
    layout.write_text("{{ undefined_q.x }}\n")
    result = builder.apply([FileChange(layout)])
    assert result is not None
    said = [p for p in result.problems if "_layouts/index.html:1:" in p]
    assert said and said[0].startswith("the index: dashboards/_layouts/index.html:1: "), said
    main = parse((builder.out.path / "index.html").read_text()).find("main").text()
    assert "dashboards/_layouts/index.html:1: " in main and str(builder.root) not in main


def test_config_error_shows_everywhere_until_fixed(builder: PreviewBuilder) -> None:
    config = builder.root / "dashsite.toml"
    config.write_text("nonsense = 1\n")
    result = builder.apply([FileChange(config)])
    assert result is not None and result.problems[0].startswith("dashsite.toml: unknown key")
    for page in ("a/index.html", "index.html"):
        main = parse((builder.out.path / page).read_text()).find("main").text()
        assert "dashsite.toml: unknown key 'nonsense'" in main
    config.write_text('title = "Fine"\n')
    fixed = builder.apply([FileChange(config)])
    assert fixed is not None and fixed.problems == ()
    assert parse((builder.out.path / "index.html").read_text()).find("h1").text() == "Fine"


def test_a_save_without_a_change_writes_nothing(builder: PreviewBuilder) -> None:
    template = builder.root / "dashboards" / "a" / "template.html"
    template.write_text(template.read_text())
    result = builder.apply([FileChange(template)])
    assert result is not None and result.rendered == ("a/index.html",)
    assert result.written == 0
    template.write_text("<p id='v'>changed {{ runs }}</p>")
    changed = builder.apply([FileChange(template)])
    assert changed is not None and changed.written == 1


def _request(url: str, target: str, host: str) -> tuple[int, dict[str, str], bytes]:
    head, _, body = _send(url, target, host).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ", 2)[1]), headers, body


def test_a_foreign_host_header_is_refused(served: ServeProcess) -> None:
    port = urlsplit(served.url).port
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}"):
        status, headers, body = _request(served.url, "/svc/", host)
        assert status == 403, host
        assert b"Service" not in body
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        status, headers, body = _request(served.url, "/svc/", host)
        assert status == 200, host
        assert headers["x-content-type-options"] == "nosniff"
    status, headers, _ = _request(served.url, "/livereload.js", f"localhost:{port}")
    assert status == 200 and headers["x-content-type-options"] == "nosniff"


def test_a_file_replaced_while_served_is_never_cut_short(tmp_path: Path) -> None:
    site = tmp_path / "project" / "site"
    write_project(tmp_path / "project", {"svc": simple()})
    assert cli(tmp_path / "project", "build").returncode == 0
    target = site / "big.txt"
    target.write_bytes(b"a" * 200_000)
    server = ServeProcess(tmp_path / "project")
    stop = threading.Event()

    def swap() -> None:
        size = 0
        while not stop.is_set():
            size = (size + 1) % 2
            temp = site / ".big.tmp"
            temp.write_bytes((b"b" if size else b"c") * (10_000 if size else 300_000))
            temp.replace(target)

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        host = urlsplit(server.url).netloc
        for _ in range(300):
            status, headers, body = _request(server.url, "/big.txt", host)
            assert status == 200
            assert int(headers["content-length"]) == len(body)
            assert len(set(body)) == 1
    finally:
        stop.set()
        swapper.join()
        assert server.stop() == 0


# -- status over time in the preview, from the site's history ---------------------

DECLARED = """\
+++
title = "Database failover"
dashboards = ["web"]
start = {start}
end = {end}
severity = "error"
+++
The primary went away; the replica took over.
"""


def seeded_site(root: Path, outage: datetime) -> None:
    """60 days of hourly history, an hour down at ``outage`` that an incident file
    explains, hourly versions again until three hours ago."""
    write_project(root, {"web": simple("Web")}, config='expected_every = "1h"\n')
    ran = ("status", "count")
    seed_log(root, ["web"], 60 * 24, outage, every=60)
    seed_versions(root, "web", [(f"down{n}", outage + timedelta(minutes=20 * n)) for n in range(3)],
                  "error", errors={"count": "timed out"}, collectors=ran)
    back = outage + timedelta(hours=1)
    ups = int((datetime.now(UTC) - timedelta(hours=3) - back) / timedelta(hours=1))
    seed_versions(root, "web", [(f"up{n}", back + timedelta(hours=n)) for n in range(ups)],
                  collectors=ran)
    (root / "incidents").mkdir()
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    (root / "incidents" / "failover.md").write_text(DECLARED.format(
        start=(outage - timedelta(minutes=5)).strftime(stamp),
        end=(back + timedelta(minutes=5)).strftime(stamp)))


def day_bars(page) -> list[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    """Each day of the 90-day bars: its classes, its words, its links."""
    return [(tuple(li.classes), " ".join(li.text().split()),
             tuple(a.attrs["href"] for a in li.find_all("a")))
            for li in page.find("ol", class_="day-bars").find_all("li")]


def uptime_windows(page) -> tuple[str, list[list[str]]]:
    """The uptime line under the bars, and the uptime table's rows."""
    line = page.find("section", class_="status-over-time").find("p", class_="meta").text()
    table = page.find("table", class_="uptime-table").find("tbody")
    rows = [[" ".join(c.text().split()) for c in tr.iter() if c.tag in ("th", "td")]
            for tr in table.find_all("tr")]
    return " ".join(line.split()), rows


def test_the_preview_shows_the_sites_status_over_time_and_writes_nothing(
    tmp_path: Path,
) -> None:
    root = tmp_path / "project"
    now = datetime.now(UTC)  # serve --watch collects on the real clock
    outage = (now - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    seeded_site(root, outage)
    build(root, version_id="v1", clock=fixed_clock(now - timedelta(hours=1)))
    before = tree_digest(root / "site")
    server = ServeProcess(root, "--watch")
    try:
        host = urlsplit(server.url).netloc
        status, _, body = _request(server.url, "/web/", host)
        assert status == 200
        preview = parse(body.decode("utf-8"))
        # a day's link opens the built site's history page: the preview draws only the
        # latest pages and the index, and reads the rest from site/
        href = day_bars(preview)[-6][2][0]
        status, _, body = _request(server.url, "/web/" + href.split("#")[0], host)
        assert status == 200
        built_page = parse((root / "site" / "web" / href.split("#")[0]).read_text())
        assert parse(body.decode("utf-8")).find("title").text() == built_page.find("title").text()
        status, _, body = _request(server.url, "/", host)
        card = parse(body.decode("utf-8")).find("li", id="card-web")
        assert "90 days" in card.find("div", class_="day-runs").attrs["aria-label"]
    finally:
        assert server.stop() == 0
    assert tree_digest(root / "site") == before  # the preview wrote nothing into the site
    bars = day_bars(preview)
    assert len(bars) == 90
    down = next(bar for bar in bars if bar[1].startswith(outage.date().isoformat()))
    assert "state-down" in down[0] and "down 1 h" in down[1]
    line, rows = uptime_windows(preview)
    assert line.startswith("Uptime: 24 h 100 % · 7 d 99.")
    assert [row[0] for row in rows] == ["Dashboard", "Count", "Status"]
    recent = preview.find("section", class_="incidents")
    assert "Database failover" in recent.text()  # incidents/ read as the build reads it
    # A build at the moment the preview collected files what the preview showed.
    shown = preview.find("p", class_="meta").find("time").attrs["datetime"]
    build(root, version_id="v2", clock=fixed_clock(datetime.fromisoformat(shown)))
    latest = parse((root / "site" / "web" / "index.html").read_text())
    assert day_bars(preview) == day_bars(latest)
    assert uptime_windows(preview) == uptime_windows(latest)
    assert " ".join(recent.text().split()) == " ".join(
        latest.find("section", class_="incidents").text().split())


def test_without_history_the_preview_shows_what_a_first_build_would(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", {"web": simple("Web")},
                         config='[status_words]\nok = "All good"\n')
    moment = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)
    preview = PreviewBuilder(root, tmp_path / "preview", clock=fixed_clock(moment))
    assert preview.full().problems == ()
    assert not (root / "site").exists()
    shown = parse((tmp_path / "preview" / "web" / "index.html").read_text())
    build(root, version_id="v1", clock=fixed_clock(moment))
    first = parse((root / "site" / "web" / "index.html").read_text())
    assert day_bars(shown) == day_bars(first)
    assert day_bars(shown)[-1][1] == "2026-11-27: ok, 1 version, uptime no data"
    assert uptime_windows(shown) == uptime_windows(first)
    # the site's own words, as every built page uses them
    assert shown.find("h1").find("span").text() == first.find("h1").find("span").text() == (
        "All good")


def test_maintenance_declared_ahead_shows_as_scheduled_in_the_preview(
    builder: PreviewBuilder,
) -> None:
    folder = builder.root / "incidents"
    folder.mkdir()
    planned = folder / "upgrade.md"
    planned.write_text(DECLARED.format(start="2099-01-09T02:00:00Z", end="2099-01-09T04:00:00Z")
                       .replace('["web"]', '["a"]').replace('"error"', '"maintenance"'))
    result = builder.apply([FileChange(planned)])
    assert result is not None and result.problems == ()
    told = parse((builder.out.path / "a" / "index.html").read_text()).find(
        "section", class_="scheduled")
    assert "Database failover" in told.text() and "2099-01-09 02:00 UTC" in told.text()
    assert "Database failover" not in parse((builder.out.path / "a" / "index.html").read_text(
    )).find("section", class_="incidents").text()
    index = parse((builder.out.path / "index.html").read_text())
    assert "Database failover" in index.find("section", class_="scheduled").text()
    assert not list(parse((builder.out.path / "b" / "index.html").read_text()).find_all(
        "section", class_="scheduled"))


def test_an_incident_file_redraws_every_page_without_collecting(
    builder: PreviewBuilder,
) -> None:
    folder = builder.root / "incidents"
    folder.mkdir()
    incident = folder / "failover.md"
    incident.write_text(DECLARED.format(start="2026-11-27T20:00:00Z", end="2026-11-27T21:00:00Z")
                        .replace('["web"]', '["a"]'))
    result = builder.apply([FileChange(incident)])
    assert result is not None and result.collected == () and result.problems == ()
    assert set(result.rendered) == {"a/index.html", "b/index.html"}
    recent = parse((builder.out.path / "a" / "index.html").read_text()).find(
        "section", class_="incidents")
    assert "Database failover" in recent.text()
    incident.write_text("no front matter\n")
    broken = builder.apply([FileChange(incident)])
    assert broken is not None
    said = ("incidents/failover.md:1: has no front matter — start the file with a '+++' line, "
            "the TOML fields, and another '+++' line")
    assert broken.problems == (said,)
    # The outage it declared is gone from the pages, and every page says why: the author
    # must not read "Operational" as the truth.
    for relative in ("a/index.html", "b/index.html", "index.html"):
        shown = parse((builder.out.path / relative).read_text())
        notice = shown.find("main").find("section", class_="collector-errors")
        assert notice is not None and notice.attrs.get("role") == "alert", relative
        assert said in " ".join(notice.text().split()), relative
    incident.unlink()
    fixed = builder.apply([FileChange(incident)])
    assert fixed is not None and fixed.problems == ()
    shown = parse((builder.out.path / "a" / "index.html").read_text())
    assert list(shown.find("main").find_all("section", class_="collector-errors")) == []


def test_a_finished_build_redraws_the_preview_from_its_history(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", {"a": simple("A"), "b": simple("B")})
    moment = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)
    preview = PreviewBuilder(root, tmp_path / "preview", clock=fixed_clock(moment))
    preview.full()
    page = tmp_path / "preview" / "a" / "index.html"
    assert day_bars(parse(page.read_text()))[-1][1].endswith(": ok, 1 version, uptime no data")
    build(root, version_id="v1", clock=fixed_clock(moment - timedelta(minutes=10)))
    result = preview.apply([FileChange(root / "site" / "manifest.json")])
    assert result is not None and result.collected == () and result.problems == ()
    assert set(result.rendered) == {"a/index.html", "b/index.html"}
    # (its run repeats v1's data on v1's day: the next build files a check, not a version)
    assert day_bars(parse(page.read_text()))[-1][1] == "2026-11-27: ok, 1 version, uptime 100 %"


def test_a_built_dashboard_removed_while_previewed_is_shown_archived(tmp_path: Path) -> None:
    """Its folder deleted: the preview draws no page for it, and the built site's (served in
    its place) said "Operational, collected just now"."""
    import shutil

    root = write_project(tmp_path / "project", {"a": simple("A"), "b": simple("B")})
    moment = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)
    build(root, version_id="v1", clock=fixed_clock(moment))
    preview = PreviewBuilder(root, tmp_path / "preview", clock=fixed_clock(moment))
    preview.full()
    shutil.rmtree(root / "dashboards" / "b")
    result = preview.apply([FileChange(root / "dashboards" / "b", deleted=True)])
    assert result is not None
    page = parse((tmp_path / "preview" / "b" / "index.html").read_text())
    assert "Archived" in page.find("h1").text()
    index = parse((tmp_path / "preview" / "index.html").read_text())
    assert not list(index.find_all("li", id="card-b"))  # (not a dashboard of the preview)


def test_a_build_newer_than_the_previews_run_is_followed_by_a_new_run(tmp_path: Path) -> None:
    """A build finished after the preview collected: its versions are newer than the
    preview's run, so the preview runs the collectors again to show a run after them
    (it kept showing the day as the preview first saw it)."""
    root = write_project(tmp_path / "project", {"a": simple("A")})
    moment = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)
    now = [moment]
    preview = PreviewBuilder(root, tmp_path / "preview", clock=lambda: now[0])
    preview.full()
    now[0] = moment + timedelta(minutes=20)
    build(root, version_id="v1", clock=fixed_clock(moment + timedelta(minutes=5)))
    build(root, version_id="v2", clock=fixed_clock(moment + timedelta(minutes=10)))
    result = preview.apply([FileChange(root / "site" / "manifest.json")])
    assert result is not None and result.collected == ("a",)
    page = parse((tmp_path / "preview" / "a" / "index.html").read_text())
    assert day_bars(page)[-1][1].startswith("2026-11-27: ok, 1 version")  # (v2 and it: checks)
    assert page.find("p", class_="meta").find("time").attrs["datetime"].startswith(
        "2026-11-27T20:35")


def test_a_folder_made_after_the_watch_began_is_watched(tmp_path: Path) -> None:
    """No incidents/ when serve --watch started (a new project has none): once made, the
    edits of its files are seen, not only its creation."""
    import time

    from dashsite.preview.watch import ChangeBatcher, FileWatcher

    root = tmp_path / "project"
    root.mkdir()
    incidents = root / "incidents"
    batcher = ChangeBatcher()
    watcher = FileWatcher([(root, False), (incidents, True)], batcher, poll=True)
    watcher.start()
    seen: set[Path] = set()

    def wait_for(path: Path) -> None:
        deadline = time.monotonic() + 15
        while path not in seen:
            assert time.monotonic() < deadline, f"{path} never seen: {sorted(seen)}"
            batcher.add(root / ".tick")  # next_batch blocks until something came
            seen.update(change.path for change in batcher.next_batch() or [])
            time.sleep(0.1)

    try:
        incidents.mkdir()
        wait_for(incidents)
        (incidents / "db.md").write_text("first")
        wait_for(incidents / "db.md")
        seen.clear()
        time.sleep(0.3)  # (the polling observer tells changes of the modification time)
        (incidents / "db.md").write_text("second, longer")
        wait_for(incidents / "db.md")
    finally:
        watcher.stop()


def test_a_dashboard_left_running_past_its_timeout_is_told_once(tmp_path: Path) -> None:
    """A save whose import never returns: the page shows the timeout, and the terminal says
    once that a thread is left running (it cannot be stopped) until serve restarts."""
    root = write_project(tmp_path / "project", {"web": simple("Web")},
                         config="import_timeout = 1\n")
    server = ServeProcess(root, "--watch")
    try:
        module = root / "dashboards" / "web" / "dashboard.py"
        module.write_text("import time\n\ntime.sleep(600)\n")
        said = r"1 thread\(s\) still running a dashboard's code past its timeout .* restart"
        assert server.wait_for_line(said, server.err, limit=30) is not None
        page = (server.preview / "web" / "index.html").read_text()
        assert "dashboard.py" in page and "import" in page
        mark = len(server.err)
        module.write_text(simple("Web")["dashboard.py"])  # fixed: the thread still sleeps
        server.wait_for_line(r"rebuilt \(web/dashboard.py\)", server.err, limit=30, start=mark)
        time.sleep(2)  # (looked at a moment after each rebuild)
        assert sum("still running a dashboard's code" in line for line in server.err) == 1
    finally:
        assert server.stop() == 0
