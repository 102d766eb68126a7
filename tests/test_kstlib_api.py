"""kstlib.monitoring's API, continued: Monitoring, FileDelivery, renderer functions, YAML dashboards."""

from __future__ import annotations

import asyncio
import email
import json
import os
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

import dashsite
from dashsite import (
    CellValue,
    DeliveryConfigError,
    FileDelivery,
    Monitoring,
    MonitoringConfigCollectorError,
    MonitoringConfigFileNotFoundError,
    MonitoringConfigFormatError,
    MonitoringError,
    MonitorKV,
    MonitorTable,
    RenderError,
    StatusCell,
    StatusLevel,
    create_services_from_directory,
    discover_monitoring_configs,
    get_css_classes,
    load_monitoring_config,
    render_html,
    render_template,
)
from dashsite.kstlib.delivery import TIMESTAMP_FORMAT
from projects import build, cli, write_project

from htmltree import parse

# -- Monitoring ---------------------------------------------------------------------------


def test_monitoring_collects_by_decorator_and_renders() -> None:
    mon = Monitoring(template="<p>{{ status | render }}</p><p id=n>{{ count }}</p>", name="svc")

    @mon.collector
    def status() -> StatusCell:
        return StatusCell("UP", StatusLevel.OK)

    @mon.collector(name="count", timeout=5, retries=1)
    def how_many() -> int:
        return 3

    mon.add_collector("extra", lambda: "x").add_collector("more", lambda: "y")
    assert mon.collector_names == ["status", "count", "extra", "more"] and mon.name == "svc"
    result = mon.run_sync()
    tree = parse(result.html)
    assert tree.find("p", id="n").text() == "3"
    # inline_css=True (the default) means no <style> block, as in kstlib.
    assert "UP" in result.html and "<style>" not in result.html
    assert result.success and result.status is StatusLevel.OK


def test_monitoring_defaults_to_recording_failures_and_needs_one_template(tmp_path: Path) -> None:
    mon = Monitoring(template="{{ bad }}")

    @mon.collector
    def bad() -> int:
        raise ValueError("nope")

    result = mon.run_sync()  # fail_fast=False, as in kstlib's Monitoring
    assert not result.success and "nope" in str(result.errors[0])
    with pytest.raises(ValueError, match="Either 'template' or 'template_file' is required"):
        Monitoring()
    with pytest.raises(ValueError, match="Cannot specify both"):
        Monitoring(template="x", template_file=tmp_path / "t.html")
    with pytest.raises(FileNotFoundError, match="Template not found"):
        Monitoring(template_file=tmp_path / "missing.html")
    (tmp_path / "t.html").write_text("<b>{{ v }}</b>")
    from_file = Monitoring(template_file=tmp_path / "t.html")
    from_file.add_collector("v", lambda: 7)
    assert from_file.run_sync().html == "<b>7</b>"


@pytest.mark.calendar
def test_monitoring_runs_inside_a_running_loop_and_delivers(tmp_path: Path) -> None:
    delivery = FileDelivery(tmp_path / "reports", max_files=5)
    mon = Monitoring(template="<p>{{ v }}</p>", delivery=delivery, name="daily report")
    mon.add_collector("v", lambda: "hello")

    async def inside() -> None:
        result = await mon.run()
        assert result.html == "<p>hello</p>"
        assert mon.run_sync(deliver=False).html == "<p>hello</p>"  # a loop is running here

    asyncio.run(inside())
    (written,) = sorted((tmp_path / "reports").glob("*.html"))
    assert written.read_text() == "<p>hello</p>"
    assert written.name.startswith("daily_report_") and written.suffix == ".html"
    assert mon.last_delivery is not None and mon.last_delivery.path == written


# -- FileDelivery ---------------------------------------------------------------------------


def _result(html: str) -> dashsite.MonitoringResult:
    now = datetime.now(UTC)
    return dashsite.MonitoringResult(html, {}, now, now)


def test_two_runs_in_the_same_second_keep_both_files(tmp_path: Path) -> None:
    delivery = FileDelivery(tmp_path)
    first = asyncio.run(delivery.deliver(_result("one"), "svc"))
    second = asyncio.run(delivery.deliver(_result("two"), "svc"))
    assert first.success and second.success and first.path != second.path
    assert first.path is not None and second.path is not None
    assert (first.path.read_text(), second.path.read_text()) == ("one", "two")
    # Stamped to the second, then -2, -3… (kstlib's format, never overwritten).
    stamp = first.timestamp.strftime(TIMESTAMP_FORMAT)
    if second.timestamp.strftime(TIMESTAMP_FORMAT) == stamp:
        assert second.path.name == f"svc_{stamp}-2.html"
    assert not list(tmp_path.glob(".delivery-*"))  # no temporary file left


def test_rotation_deletes_only_the_files_it_wrote(tmp_path: Path) -> None:
    foreign = ["notes.html", "other_20200101_000000.html", "svc_summary.html",
               "svc_20200101_000000.html"]  # the last one even looks like ours
    for name in foreign:
        (tmp_path / name).write_text("keep me")
    for n in range(4):  # a new FileDelivery each run, as a cron job would make
        asyncio.run(FileDelivery(tmp_path, max_files=3).deliver(_result(f"run {n}"), f"svc-{n}"))
    mine = sorted(p.name for p in tmp_path.glob("*.html") if p.name not in foreign)
    assert len(mine) == 3
    assert sorted((tmp_path / m).read_text() for m in mine) == ["run 1", "run 2", "run 3"]
    for name in foreign:
        assert (tmp_path / name).read_text() == "keep me", name
    ledger = json.loads((tmp_path / ".dashsite-delivery.json").read_text())
    assert sorted(ledger["files"]) == mine
    # A ledger that names a file outside the folder, or garbage, is not followed.
    (tmp_path / ".dashsite-delivery.json").write_text('{"schema": 1, "files": ["../x.html"]}')
    asyncio.run(FileDelivery(tmp_path, max_files=1).deliver(_result("again"), "svc"))
    assert len([p for p in tmp_path.glob("*.html") if p.name not in foreign]) == 4


def test_mail_delivery_sends_through_any_transport() -> None:
    from dashsite import MailDelivery

    sent: list = []

    class Transport:
        def send(self, message):
            sent.append(message)

    delivery = MailDelivery.create(Transport(), sender="bot@example.com",
                                   recipients=["team@example.com"], cc=["cc@example.com"],
                                   subject_template="Report: {name}")
    outcome = asyncio.run(delivery.deliver(_result("<h1>Daily</h1>"), "Daily"))
    assert outcome.success and len(sent) == 1
    message = sent[0]
    assert (message["From"], message["To"], message["Cc"], message["Subject"]) == (
        "bot@example.com", "team@example.com", "cc@example.com", "Report: Daily")
    assert message.get_body(("html",)).get_content().strip() == "<h1>Daily</h1>"
    assert "Daily" in message.get_body(("plain",)).get_content()

    class Broken:
        async def send(self, message):
            raise ConnectionError("Network error")

    failing = MailDelivery.create(Broken(), sender="a@example.com", recipients=["b@example.com"])
    with pytest.raises(dashsite.DeliveryError, match="Network error"):
        asyncio.run(failing.deliver(_result("x"), "x"))
    assert failing.last_result is not None and not failing.last_result.success
    with pytest.raises(DeliveryConfigError, match="too many recipients"):
        MailDelivery.create(Transport(), sender="a@example.com",
                            recipients=[f"u{i}@example.com" for i in range(51)])
    with pytest.raises(DeliveryConfigError, match="not an email address"):
        MailDelivery.create(Transport(), sender="a@example.com\r\nBcc: x@evil", recipients=["b@e.com"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_files": -1}, "max_files cannot be negative"),
        ({"max_files": 5000}, "max_files exceeds limit"),
        ({"filename_template": "{name}.html"}, "must contain {timestamp}"),
        ({"filename_template": "../{name}_{timestamp}.html"}, "must name a file"),
        ({"filename_template": "{name}_{timestamp}_{user}.html"}, "{name} and {timestamp} only"),
    ],
)
def test_a_bad_file_delivery_is_refused(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(DeliveryConfigError) as caught:
        FileDelivery(tmp_path, **options)
    assert message in str(caught.value) and isinstance(caught.value, ValueError)
    assert isinstance(caught.value, MonitoringError)


# -- renderer functions, small names ------------------------------------------------------


def test_render_template_html_and_css_classes() -> None:
    css = get_css_classes()
    assert css.startswith("<style>") and ".status-ok" in css
    html = render_template("<p>{{ s | render }}</p>", {"s": StatusCell("UP", StatusLevel.OK)})
    assert html.startswith(css) and 'class="status-badge status-ok"' in html
    inline = render_template("<p>{{ s | render(inline_css=True) }}</p>", {"s": StatusCell("UP")},
                             inline_css=True)
    assert inline.startswith("<p>") and 'style="' in inline
    assert render_template("{{ a }}", {"a": "<b>"}, inline_css=True) == "&lt;b&gt;"
    with pytest.raises(TypeError):
        render_template(b"{{ a }}")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        render_template("{{ a }}", [1])  # type: ignore[arg-type]
    with pytest.raises(RenderError) as caught:
        render_template("line one\n{% if %}")
    assert caught.value.line == 2
    assert str(render_html("<b>bold</b>")) == "&lt;b&gt;bold&lt;/b&gt;"
    assert str(render_html(MonitorKV({"a": 1}))) == MonitorKV({"a": 1}).render()


def test_table_row_count_and_cell_value() -> None:
    table = MonitorTable(["a", "b"])
    assert table.row_count == 0
    table.add_row([1, "x"]).add_row([2, "y"])
    assert table.row_count == 2
    value: CellValue = 3.5
    assert isinstance(value, float | int | str | bool)


# -- YAML dashboards ------------------------------------------------------------------------

HELPER = """
def checks():
    from dashsite import MonitorTable, StatusCell, StatusLevel
    table = MonitorTable(["check", "state"])
    table.add_row(["db", StatusCell("UP", StatusLevel.OK)])
    return table
"""
MONITOR = """\
name: Service health
template: |
  <p id="version">{{ version }}</p>
  <p id="host">{{ host }}</p>
  {{ checks | render }}
collectors:
  version: "1.4.2"
  host: {type: env, env_var: DASHSITE_TEST_HOST, default: "unknown"}
  checks: {type: callable, module: svc_checks, function: checks}
"""


def write_yaml_project(root: Path, text: str = MONITOR) -> Path:
    folder = root / "dashboards"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "svc.monitor.yml").write_text(text)
    (folder / "svc_checks.py").write_text(HELPER)
    return folder / "svc.monitor.yml"


def test_a_monitor_yml_file_builds_as_a_dashboard(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSITE_TEST_HOST", "web-1")
    write_yaml_project(tmp_path)
    write_project(tmp_path, {"plain": {"template.html": "<p>plain</p>"}})
    result = build(tmp_path, version_id="v1")
    assert not result.problems and {d.slug for d in result.dashboards} == {"svc", "plain"}
    page = parse((tmp_path / "site" / "svc" / "index.html").read_text())
    assert page.find("p", id="version").text() == "1.4.2"
    assert page.find("p", id="host").text() == "web-1"
    assert "UP" in page.find("table").text()
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text())
    titles = {d["slug"]: d["title"] for d in manifest["dashboards"]}
    assert titles["svc"] == "Service health"
    done = cli(tmp_path, "list")
    assert "svc\tService health\thtml\tversion, host, checks\t1 version(s)" in done.stdout
    # Mailed from the filed version: the YAML's template, its collectors not run again.
    eml = tmp_path / "svc.eml"
    assert cli(tmp_path, "mail", "svc", "--to", "a@example.com", "--eml", str(eml)).returncode == 0
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    html = message.get_body(("html",)).get_content()
    assert "1.4.2" in html and "web-1" in html


def test_a_template_file_beside_the_yaml(tmp_path: Path) -> None:
    write_yaml_project(tmp_path, "template_file: svc.html\ncollectors:\n  v: 5\n")
    (tmp_path / "dashboards" / "svc.html").write_text("<p id='v'>{{ v }}</p>")
    build(tmp_path, version_id="v1")
    page = parse((tmp_path / "site" / "svc" / "index.html").read_text())
    assert page.find("p", id="v").text() == "5"
    assert "<title>Svc" in (tmp_path / "site" / "svc" / "index.html").read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\ntemplate: [unclosed\n", "svc.monitor.yml:2: not valid YAML"),
        ("collectors:\n  a: 1\n", "svc.monitor.yml: needs 'template' or 'template_file'"),
        ("template: x\ncollectors:\n  a: 1\n  b: {type: ftp}\n",
         "svc.monitor.yml:4: collector 'b': unknown type 'ftp'"),
        ("template: x\ncollectors:\n  a: {type: callable, module: os.path, function: join}\n",
         "svc.monitor.yml:3: collector 'a': module 'os.path' is blocked for safety"),
        ("template: x\ncollectors:\n  a: {type: callable, module: subprocess, function: run}\n",
         "svc.monitor.yml:3: collector 'a': module 'subprocess' is blocked"),
        ("template: x\ncollectors:\n  a: {type: env}\n",
         "svc.monitor.yml:3: collector 'a': type 'env' needs 'env_var'"),
        ("template: x\ncollectors:\n  a: {type: callable, module: nowhere_at_all, function: f}\n",
         "svc.monitor.yml:3: collector 'a': cannot import 'nowhere_at_all'"),
        ("template: x\ncollectors:\n" + "".join(f"  c{i}: {i}\n" for i in range(101)),
         "svc.monitor.yml:2: too many collectors (101 > 100)"),
        ("name: " + "n" * 129 + "\ntemplate: x\n", "svc.monitor.yml:1: 'name' exceeds maximum length (128 characters)"),
        ("template: x\ntemplate_file: ../../etc/passwd\n", "needs 'template' or 'template_file'"),
        ("template_file: ../../etc/passwd\n", "svc.monitor.yml:1: 'template_file' '../../etc/passwd' is outside"),
        ("template: x\ncollectors:\n  build: 1\n", "collector name 'build' would hide"),
        ("template: |\n  <p>\n  {{ nope.x }}\n", "svc.monitor.yml:3: 'nope' is undefined"),
        # typos were accepted: the value read None and the page said all was well
        ("template: x\ncollectors:\n  a: {type: static, valu: 3}\n",
         "svc.monitor.yml:3: collector 'a': unknown key 'valu' — did you mean 'value'?"),
        ("template: x\ncollectors:\n  a:\n    type: env\n    env_var: HOME\n    defualt: 3\n",
         "svc.monitor.yml:6: collector 'a': unknown key 'defualt' — did you mean 'default'?"),
        ("template: '{{ a }}'\ncolectors:\n  a: 1\n",
         "svc.monitor.yml:2: unknown key 'colectors' — did you mean 'collectors'?"),
    ],
)
def test_a_bad_monitor_file_is_one_line_naming_file_and_line(tmp_path: Path, text: str,
                                                             expected: str) -> None:
    write_yaml_project(tmp_path, text)
    write_project(tmp_path, {"fine": {"template.html": "<p>fine</p>"}})
    done = cli(tmp_path, "build", "--version-id", "v1")
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines()
             if "svc" in line and not line.startswith("[")]  # (not the progress count)
    assert len(lines) == 1 and lines[0].startswith("dashboards/") and expected in lines[0], lines
    assert (tmp_path / "site" / "fine" / "index.html").is_file()  # the others still build


def test_size_limits_and_a_name_taken_twice(tmp_path: Path) -> None:
    path = write_yaml_project(tmp_path, "template: x\n# " + "p" * (1024 * 1024) + "\n")
    with pytest.raises(MonitoringConfigFormatError, match="file too large"):
        load_monitoring_config(path)
    path.write_text("template: '" + "t" * (512 * 1024 + 1) + "'\n")
    with pytest.raises(MonitoringConfigFormatError, match="template exceeds maximum size"):
        load_monitoring_config(path)
    path.write_text("template: x\n")
    (tmp_path / "dashboards" / "svc").mkdir()
    (tmp_path / "dashboards" / "svc" / "template.html").write_text("x")
    result = build(tmp_path, version_id="v1")
    assert any("both svc/ and svc.monitor.yml" in p.one_line() for p in result.problems)


def test_the_loader_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path / "dashboards"))
    path = write_yaml_project(tmp_path)
    config = load_monitoring_config(path)
    assert config.name == "Service health" and [c.name for c in config.collectors] == [
        "version", "host", "checks"]
    assert config.inline_css and config.fail_fast and config.source_path == path
    result = config.to_service().run_sync()
    assert "1.4.2" in result.html and "<style>" not in result.html
    assert list(discover_monitoring_configs(tmp_path / "dashboards")) == ["Service health"]
    services = create_services_from_directory(tmp_path / "dashboards")
    assert "unknown" in services["Service health"].run_sync().html or os.environ.get(
        "DASHSITE_TEST_HOST")
    with pytest.raises(MonitoringConfigFileNotFoundError):
        load_monitoring_config(tmp_path / "missing.monitor.yml")
    bad = dashsite.MonitoringConfig.from_dict(
        {"template": "x", "collectors": {"a": {"type": "callable", "module": "pickle",
                                               "function": "loads"}}})
    with pytest.raises(MonitoringConfigCollectorError, match="blocked"):
        bad.to_service()


def test_the_preview_loads_and_reloads_a_monitor_file(tmp_path: Path) -> None:
    from dashsite.preview.builder import PreviewBuilder
    from dashsite.preview.watch import FileChange

    path = write_yaml_project(tmp_path, "template: |\n  <p id='v'>{{ v }}</p>\ncollectors:\n  v: 1\n")
    builder = PreviewBuilder(tmp_path, tmp_path / "preview")
    builder.full()
    page = tmp_path / "preview" / "svc" / "index.html"
    assert parse(page.read_text()).find("p", id="v").text() == "1"
    path.write_text("template: |\n  <p id='v'>{{ v }}</p>\ncollectors:\n  v: 2\n")
    rebuilt = builder.apply([FileChange(path)])
    assert rebuilt is not None and "svc" in rebuilt.collected
    assert parse(page.read_text()).find("p", id="v").text() == "2"
    path.unlink()
    builder.apply([FileChange(path, deleted=True)])
    assert "svc" not in builder.dashboards


def test_monitoring_collector_takes_every_option_of_dashsites_collector():
    from dashsite import Monitoring, collector
    from dashsite.collection.collector import COLLECTOR_ATTRIBUTE

    mon = Monitoring(name="m", template="{{ api }}")

    @mon.collector(name="api", timeout=4, retries=1, backoff=0.5, every="1h")
    def api_status():
        return "up"

    spec = mon.service._collectors["api"]
    assert (spec.name, spec.timeout, spec.retries, spec.backoff, spec.every) == ("api", 4, 1, 0.5, 3600.0)
    assert spec.func is api_status
    assert getattr(api_status, COLLECTOR_ATTRIBUTE) == spec  # the same mark as @collector's
    assert collector is not None
    assert mon.run_sync().html.strip() == "up"
