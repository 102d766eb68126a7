"""Mailing a dashboard: the MIME structure, the text part, and a real SMTP server."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email
import ipaddress
import json
import re
import socket
import ssl
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dashsite import MonitoringService
from dashsite.core.config import load_config
from dashsite.mail.message import SMTPTransport, build_message, render_for_mail
from dashsite.render.plaintext import html_to_text
from projects import build, cli, write_project

from htmltree import parse

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
MODULE = f"""
import base64
from dashsite import collector, MonitorKV, MonitorTable, MonitorImage, StatusCell, StatusLevel

TITLE = "Ops & Co"
DESCRIPTION = "Mailed daily"

@collector
def services():
    t = MonitorTable(["Service", "State"], title="Services")
    t.add_row(["api", StatusCell("UP", StatusLevel.OK)])
    t.add_row(["queue", StatusCell("SLOW", StatusLevel.WARNING)])
    return t

@collector
def info():
    return MonitorKV({{"Owner": "<platform team>", "Price": "5 € & up"}})

@collector
def logo():
    return MonitorImage(data=base64.b64decode({base64.b64encode(PNG).decode()!r}), alt="logo")

@collector
def broken():
    raise TimeoutError("db slow")
"""
TEMPLATE = """
<h2>Services</h2>
{{ services | render }}
<h2>Info</h2>
{{ info | render }}
{{ logo | render }}
<p>Read <a href="https://example.com/runbook">the runbook</a>.</p>
"""


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def message(self, index: int = -1) -> EmailMessage:
        data = self.envelopes[index].content
        parsed = email.message_from_bytes(data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_project(tmp_path, {"ops": {"dashboard.py": MODULE, "template.html": TEMPLATE}})
    build(tmp_path, version_id="v1")
    return tmp_path


def smtp_config(root: Path, port: int, **extra: str | int) -> None:
    lines = ["[mail]", 'host = "127.0.0.1"', f"port = {port}", 'from = "bot@example.com"']
    lines += [f"{k} = {v!r}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in extra.items()]
    (root / "dashsite.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


def test_message_structure_inline_css_and_images(project: Path) -> None:
    page = render_for_mail(load_config(project), "ops")
    message = build_message(page, sender="bot@example.com", to=["a@example.com"],
                            cc=["b@example.com"])
    assert message.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in message.iter_parts()]
    assert parts == ["text/plain", "multipart/related"]
    related = list(message.iter_parts())[1]
    html_part, image = list(related.iter_parts())
    assert html_part.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png" and image.get_content() == PNG
    html = html_part.get_content()
    root = parse(html)
    assert not list(root.find_all("style")) and not list(root.find_all("link"))
    assert all("class" not in node.attrs for node in root.iter()), "class mode leaked into mail"
    badge = next(span for span in root.find_all("span") if span.text() == "SLOW")
    assert "background-color:#9a6700" in badge.attrs["style"]
    img = root.find("img", alt="logo")
    assert img.attrs["src"] == f"cid:{image['Content-ID'].strip('<>')}"
    assert "Collector errors" in root.text() and "db slow" in root.text()
    assert page.subject.startswith("Ops & Co: Partial outage — ")  # the pages' word
    assert message["Cc"] == "b@example.com"


def test_text_part_is_readable(project: Path) -> None:
    text = render_for_mail(load_config(project), "ops").text
    assert "<" not in text.replace("<platform team>", "")
    assert "&amp;" not in text and "&lt;" not in text
    assert "Ops & Co · Partial outage\n=========================" in text
    assert "Service | State\n--------+------\napi     | UP\nqueue   | SLOW" in text
    assert "Owner | <platform team>\nPrice | 5 € & up" in text
    assert "Read the runbook (https://example.com/runbook)." in text
    assert "[logo]" in text


def test_html_to_text_lists_headings_and_pre() -> None:
    html = ("<h1>Title</h1><p>One &lt;two&gt;</p><ul><li>a</li><li>b<ol><li>c</li></ol></li>"
            "</ul><pre>  keep\n    spacing</pre><script>x()</script><svg><title>t</title></svg>")
    assert html_to_text(html) == (
        "Title\n=====\n\nOne <two>\n\n- a\n- b\n\n  1. c\n\n  keep\n    spacing\n"
    )


def test_mail_over_smtp(project: Path, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    smtp_config(project, port, security="none")
    done = cli(project, "mail", "ops", "--to", "a@example.com,b@example.com", "--cc",
               "c@example.com", "--subject", "Daily ops")
    assert done.returncode == 0, done.stderr
    (envelope,) = handler.envelopes
    assert envelope.mail_from == "bot@example.com"
    assert sorted(envelope.rcpt_tos) == ["a@example.com", "b@example.com", "c@example.com"]
    message = handler.message()
    assert message["Subject"] == "Daily ops"
    assert message.get_body(("plain",)).get_content().startswith("Ops & Co · Partial outage")
    assert "Services" in parse(message.get_body(("html",)).get_content()).text()


def test_recipients_from_the_config(project: Path, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    smtp_config(project, port, security="none")
    with (project / "dashsite.toml").open("a") as config:
        config.write('to = ["oncall@example.com", "lead@example.com"]\n')
    done = cli(project, "mail", "ops")
    assert done.returncode == 0, done.stderr
    assert sorted(handler.envelopes[0].rcpt_tos) == ["lead@example.com", "oncall@example.com"]
    override = cli(project, "mail", "ops", "--to", "me@example.com")
    assert override.returncode == 0
    assert handler.envelopes[1].rcpt_tos == ["me@example.com"]


def test_eml_is_written_not_sent(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.eml"
    done = cli(project, "mail", "ops", "--to", "a@example.com", "--eml", str(out))
    assert done.returncode == 0
    parsed = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["To"] == "a@example.com"


def test_a_dashboard_that_failed_to_load_is_mailed_saying_so(project: Path, tmp_path: Path) -> None:
    """Its last filed version is what can be mailed, but the mail must not read as if all
    were well: the latest build could not load it (the index says so too)."""
    module = project / "dashboards" / "ops" / "dashboard.py"
    module.write_text(module.read_text() + "\ndef oops(:\n")
    assert build(project, version_id="v2").problems
    out = tmp_path / "out.eml"
    done = cli(project, "mail", "ops", "--to", "a@example.com", "--eml", str(out))
    assert done.returncode == 0, done.stderr
    parsed = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    assert parsed["Subject"].startswith("Ops & Co: Failed to load — ")
    html = parsed.get_body(("html",)).get_content()
    said = " ".join(parse(html).text().split())
    assert "Failed to load in the latest build dashboards/ops/dashboard.py:" in said
    assert "syntax error" in said and "What follows is the last version it filed" in said
    text = " ".join(parsed.get_body(("plain",)).get_content().split())
    assert "Failed to load in the latest build" in text
    assert text.startswith("Ops & Co · "), text[:60]  # the title, then its state (no run-on)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_authentication(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    handler = Inbox()
    port = free_port()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == b"bot" and \
            data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)

    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        smtp_config(project, port, security="none", user="bot", password_env="MAIL_PW")
        monkeypatch.delenv("MAIL_PW", raising=False)
        unset = cli(project, "mail", "ops", "--to", "a@example.com")
        assert unset.returncode == 1 and "$MAIL_PW is not set" in unset.stderr
        monkeypatch.setenv("MAIL_PW", "wrong")
        wrong = cli(project, "mail", "ops", "--to", "a@example.com")
        assert wrong.returncode == 1
        assert wrong.stderr.strip() == (
            f"dashsite: SMTP authentication failed for 'bot' at 127.0.0.1:{port} — "
            "check [mail] user and the password variable")
        assert "s3cret" not in wrong.stderr and "wrong" not in wrong.stderr.split("—")[0]
        monkeypatch.setenv("MAIL_PW", "s3cret")
        right = cli(project, "mail", "ops", "--to", "a@example.com")
        assert right.returncode == 0, right.stderr
        assert len(handler.envelopes) == 1
    finally:
        controller.stop()


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls(project: Path, certificate: tuple[Path, Path], security: str) -> None:
    handler = Inbox()
    port = free_port()
    context = server_context(certificate)
    if security == "ssl":
        controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=context)
    else:
        controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context,
                                require_starttls=True)
    controller.start()
    try:
        smtp_config(project, port, security=security, cafile=str(certificate[0]))
        done = cli(project, "mail", "ops", "--to", "a@example.com")
        assert done.returncode == 0, done.stderr
        assert len(handler.envelopes) == 1
        smtp_config(project, port, security=security)  # without the CA: refused
        untrusted = cli(project, "mail", "ops", "--to", "a@example.com")
        assert untrusted.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
    finally:
        controller.stop()


def test_refused_connection_is_one_line(project: Path) -> None:
    smtp_config(project, free_port(), security="none")
    done = cli(project, "mail", "ops", "--to", "a@example.com")
    assert done.returncode == 1
    assert "cannot connect to the SMTP server 127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_bad_input(project: Path) -> None:
    assert "not an email address" in cli(project, "mail", "ops", "--to", "nobody").stderr
    missing = cli(project, "mail", "nope", "--to", "a@example.com")
    assert missing.returncode == 1 and "no built version of 'nope'" in missing.stderr


def test_smtp_transport_with_monitoring_service(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    transport = SMTPTransport("127.0.0.1", port, security="none")

    def message_for(html: str) -> EmailMessage:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "s"
        message.set_content(html, subtype="html")
        return message

    service = MonitoringService("<p>{{ v }}</p>", {"v": lambda: "delivered"})
    result = asyncio.run(service.deliver(transport, message_for))
    assert result.success
    assert handler.message().get_content().strip() == "<p>delivered</p>"


TREND_TEMPLATE = """
{{ Sparkline([1, 3, 2, 5], label="Load") | render }}
{{ LineChart({"api": [1, 4, 2], "db": [2, 2, 3]}, title="Latency", unit="ms") | render }}
<p><a href="history/index.html">History</a> · <a href="https://example.com/x">runbook</a></p>
"""


@pytest.mark.parametrize("base_url", ["", "https://status.example.com/ops/"])
def test_mail_sends_charts_as_png_and_never_relative_links(tmp_path: Path, base_url: str) -> None:
    write_project(tmp_path, {"trend": {"dashboard.py": "", "template.html": TREND_TEMPLATE}},
                  config=f'base_url = "{base_url}"\n')
    build(tmp_path, version_id="v1")
    out = tmp_path / "out.eml"
    done = cli(tmp_path, "mail", "trend", "--to", "a@example.com", "--eml", str(out))
    assert done.returncode == 0, done.stderr
    message = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    html_part = message.get_body(preferencelist=("html",))
    html = html_part.get_content()
    tree = parse(html)
    assert not list(tree.find_all("svg"))
    charts = [img for img in tree.find_all("img") if img.attrs.get("alt", "").startswith("Load")]
    assert len(charts) == 1 and charts[0].attrs["src"].startswith("cid:")
    cid = charts[0].attrs["src"][4:]
    pngs = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert any(part["Content-ID"] == f"<{cid}>" for part in pngs)
    png = next(part for part in pngs if part["Content-ID"] == f"<{cid}>").get_content()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    chart = [img for img in tree.find_all("img") if img.attrs.get("alt", "").startswith("Latency")]
    assert len(chart) == 1 and chart[0].attrs["alt"] == (
        "Latency: api: last 2 ms, min 1 ms, max 4 ms; db: last 3 ms, min 2 ms, max 3 ms.")
    assert len(pngs) == 2
    hrefs = [a.attrs["href"] for a in tree.find_all("a")]
    assert "https://example.com/x" in hrefs
    assert all(href.startswith(("https://", "mailto:")) for href in hrefs), hrefs
    if base_url:
        assert f"{base_url}trend/history/index.html" in hrefs
        assert "relative link" not in done.stderr
    else:
        assert "History" in tree.text()
        assert "relative link(s) left out of the mail: set base_url" in done.stderr


def test_mail_does_not_run_the_dashboards_code(tmp_path: Path) -> None:
    module = (
        "import pathlib\nfrom dashsite import collector\n"
        "pathlib.Path(__file__).with_name('imported').touch()\n"
        "TITLE = 'Ops'\n\n@collector\ndef n():\n    return 1\n"
    )
    write_project(tmp_path, {"ops": {"dashboard.py": module, "template.html": "<p>{{ n }}</p>"}})
    build(tmp_path, version_id="v1")
    marker = tmp_path / "dashboards" / "ops" / "imported"
    marker.unlink()
    out = tmp_path / "out.eml"
    done = cli(tmp_path, "mail", "ops", "--to", "a@example.com", "--eml", str(out))
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    message = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("Ops: Operational — ")


def test_a_stored_value_no_render_type_accepts_is_one_line(tmp_path: Path) -> None:
    # A version filed before its render type checked its fields (a table's rows in its
    # title): mail reads its data.json back, refuses it, and says which file, as a line.
    module = (
        "from dashsite import MonitorTable, collector\n\n@collector\ndef t():\n"
        "    return MonitorTable(['a'], title='T')\n"
    )
    write_project(tmp_path, {"ops": {"dashboard.py": module, "template.html": "{{ t }}"}})
    build(tmp_path, version_id="v1")
    data_file = next((tmp_path / "site" / "ops").glob("*/v1/data.json"))
    document = json.loads(data_file.read_text())
    document["data"]["t"]["title"] = [["x", 1]]
    data_file.write_text(json.dumps(document))
    done = cli(tmp_path, "mail", "ops", "--to", "a@example.com", "--eml", str(tmp_path / "o"))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" not in lines[0], done.stderr
    assert lines[0].startswith(f"site/ops/{data_file.parent.parent.name}/v1/data.json: ")
    assert "MonitorTable.title is list" in lines[0]
    assert not (tmp_path / "o").exists()


def test_an_eml_is_a_draft_without_recipients_in_the_sites_words(tmp_path: Path) -> None:
    module = (
        "from dashsite import collector, StatusCell, StatusLevel\nTITLE = 'Ops'\n\n"
        "@collector\ndef api():\n    return StatusCell('down', StatusLevel.ERROR)\n"
    )
    write_project(
        tmp_path,
        {"ops": {"dashboard.py": module, "template.html": "<p>{{ api }}</p>"}},
        config='[status_words]\nerror = "Broken"\n',
    )
    build(tmp_path, version_id="v1")
    out = tmp_path / "draft.eml"
    done = cli(tmp_path, "mail", "ops", "--eml", str(out))
    assert done.returncode == 0, done.stderr
    message = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    assert message["To"] is None
    assert message["Subject"].startswith("Ops: Broken — ")
    # Sending still needs someone to send to.
    sent = cli(tmp_path, "mail", "ops")
    assert sent.returncode == 1 and "no recipient" in sent.stderr


def test_a_template_error_in_mail_names_the_template_from_the_project(tmp_path: Path) -> None:
    module = "from dashsite import collector\n\n@collector\ndef n():\n    return 1\n"
    write_project(tmp_path, {"ops": {"dashboard.py": module, "template.html": "{{ n }}"}})
    build(tmp_path, version_id="v1")
    (tmp_path / "dashboards" / "ops" / "template.html").write_text("<p>a</p>\n{{ n.x.y }}\n")
    done = cli(tmp_path, "mail", "ops", "--eml", str(tmp_path / "draft.eml"))
    assert done.returncode == 1
    assert done.stderr.startswith("dashboards/ops/template.html:2: "), done.stderr
    assert str(tmp_path) not in done.stderr


# -- the status summary, and a phone ------------------------------------------------------------

STATUS_T0 = dt.datetime(2026, 11, 27, 20, 15, tzinfo=dt.UTC)
HASH = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
STATUS_MODULE = f"""
from dashsite import collector, MonitorTable, StatusCell, StatusLevel
import pathlib
N = pathlib.Path(__file__).with_name("n.txt")

TITLE = "Web"

@collector
def latency():
    n = int(N.read_text()) if N.exists() else 0
    N.write_text(str(n + 1))
    if n in (1, 2) or n >= 5:
        raise TimeoutError("connection to https://db-primary.internal.example.com:5432/orders"
                           "?sslmode=verify-full timed out after 30 s")
    return 100 + n

@collector
def services():
    t = MonitorTable(["Service", "Region", "Latency", "State"], title="Services")
    t.add_row(["api-gateway-production", "eu-west-1", "123 ms", StatusCell("UP", StatusLevel.OK)])
    t.add_row(["queue", "us-east-1", "4 ms", StatusCell("SLOW", StatusLevel.WARNING)])
    t.add_row(["deploy", "{HASH}", "1 ms", StatusCell("UP", StatusLevel.OK)])
    return t
"""
STATUS_TEMPLATE = """
{{ LineChart((history | series("latency")).then(latency, build.collected_at), title="Latency",
             unit="ms", thresholds={"warning": 103}) | render }}
{{ services | render }}
"""
FAILOVER = """\
+++
title = "Database failover"
dashboards = ["web"]
start = 2026-11-27T09:00:00Z
end = 2026-11-27T10:30:00Z
severity = "error"
+++
Failed over to the replica.
"""


@pytest.fixture(scope="module")
def status_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 days of hourly history, a declared incident, and a collector failing now."""
    from projects import fixed_clock, seed_log

    root = tmp_path_factory.mktemp("status-mail")
    write_project(root, {"web": {"dashboard.py": STATUS_MODULE, "template.html": STATUS_TEMPLATE}},
                  config='title = "Example status"\nexpected_every = "1h"\n'
                         'base_url = "https://status.example.com/"\n')
    seed_log(root, ["web"], 24 * 30, STATUS_T0 - dt.timedelta(hours=10), every=60)
    (root / "incidents").mkdir()
    (root / "incidents" / "failover.md").write_text(FAILOVER)
    for n in range(8):  # warning (a SLOW service) throughout; latency failing since 17:15
        build(root, clock=fixed_clock(STATUS_T0 - dt.timedelta(hours=7 - n)))
    return root


def page_status(root: Path) -> tuple[str, list[str]]:
    """The latest page's uptime line and its incidents, as text."""
    page = parse((root / "site" / "web" / "index.html").read_text())
    uptime = next(p for p in page.find("section", class_="status-over-time").find_all("p")
                  if p.text().startswith("Uptime:"))
    items = page.find("section", class_="incidents").find_all("li", class_="incident")
    return " ".join(uptime.text().split()), [" ".join(li.find("p").text().split()) for li in items]


def test_the_mail_says_the_uptime_and_incidents_the_latest_page_shows(
    status_project: Path
) -> None:
    from projects import tree_digest

    site = status_project / "site"
    before = tree_digest(site)
    page = render_for_mail(load_config(status_project), "web")
    assert tree_digest(site) == before, "mail wrote into the site"
    uptime, incidents = page_status(status_project)
    assert uptime.startswith("Uptime: 24 h ") and " · 7 d " in uptime and " · 30 d " in uptime
    root = parse(page.html)
    said = next(p for p in root.find_all("p") if p.text().startswith("Uptime:"))
    assert " ".join(said.text().replace("*", "").split()) == uptime.replace("*", "")
    heading = next(h for h in root.find_all("h2") if h.text() == "Recent incidents")
    listed = heading.parent.children[heading.parent.children.index(heading) + 1:]
    items = [" ".join(li.text().split()) for node in listed if not isinstance(node, str)
             and node.tag == "ul" for li in node.children
             if not isinstance(li, str) and li.tag == "li"]
    assert len(items) == len(incidents) == 2  # the ongoing one, the declared failover
    for mailed, shown in zip(items, incidents, strict=True):
        times = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", shown)
        assert times and re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", mailed) == times
    assert items[0].startswith("Partial outage ongoing since 2026-11-27 13:15 UTC (7h 0m so far")
    assert "Database failover · 2026-11-27 09:00 UTC to 2026-11-27 10:30 UTC" in items[1]
    link = next(a for a in heading.parent.find_all("a") if a.text() == "Database failover")
    assert link.attrs["href"] == "https://status.example.com/incidents/failover.html"
    # what is going on now, at the top (its failing collector is in the errors box)
    top = [p for p in root.find_all("p") if "ongoing" in p.text()]
    assert top and root.text().index(top[0].text()) < root.text().index("Collector errors")
    chart = next(img for img in root.find_all("img") if img.attrs["alt"].startswith("Latency"))
    assert chart.attrs["alt"].endswith("No data since 17:15 UTC.")  # the last good value
    text = page.text
    assert "\nUptime: 24 h " in text and "Recent incidents\n----------------" in text
    assert "- Partial outage ongoing since 2026-11-27 13:15 UTC" in text
    assert ("Database failover (https://status.example.com/incidents/failover.html) · "
            "2026-11-27 09:00 UTC to 2026-11-27 10:30 UTC (1h 30m)") in " ".join(text.split())


def test_the_mail_tells_the_maintenance_declared_ahead(status_project: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(status_project, copy)
    start = STATUS_T0 + dt.timedelta(days=2)
    (copy / "incidents" / "upgrade.md").write_text(
        f'+++\ntitle = "Kernel upgrade"\nstart = {start:%Y-%m-%dT%H:%M:%SZ}\n'
        f'end = {start + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}\nseverity = "maintenance"\n+++\n')
    page = render_for_mail(load_config(copy), "web")
    (told,) = [p for p in parse(page.html).find_all("p") if "Kernel upgrade" in p.text()]
    assert " ".join(told.text().split()) == (
        f"Scheduled Kernel upgrade · {start:%Y-%m-%d %H:%M} UTC to "
        f"{start + dt.timedelta(hours=1):%Y-%m-%d %H:%M} UTC (1h 0m)")
    assert told.find("a").attrs["href"] == "https://status.example.com/incidents/upgrade.html"
    assert "Kernel upgrade" not in page.html.split("Recent incidents")[1]  # not one yet
    assert "Scheduled Kernel upgrade" in " ".join(page.text.split())


def test_the_mails_status_does_not_need_the_caches(status_project: Path, tmp_path: Path) -> None:
    import shutil

    from projects import tree_digest

    copy = tmp_path / "copy"
    shutil.copytree(status_project, copy)
    expected = render_for_mail(load_config(copy), "web")
    for cache in [*copy.glob("site/web/log/digest.json"), *copy.glob("site/web/log/*/status.json")]:
        cache.unlink()
    before = tree_digest(copy / "site")
    again = render_for_mail(load_config(copy), "web")
    assert tree_digest(copy / "site") == before  # recomputed in memory, never written
    assert again.text == expected.text


def test_a_long_word_gets_places_to_break_and_tables_scroll_in_their_own_box() -> None:
    from dashsite.mail.message import breakable, scrolling_tables

    html = (f'<table><tr><td title="{HASH}">{HASH}</td><td>a&amp;b{"x" * 30}</td></tr></table>'
            f'<svg><title>{HASH}</title></svg><p>short words stay whole</p>')
    done = breakable(html)
    cell = parse(done).find("td")
    assert cell.attrs["title"] == HASH  # attributes are left alone
    assert cell.text() == HASH and len(list(cell.find_all("wbr"))) == len(HASH) // 8
    assert "a&amp;b" in done and "&am<wbr>" not in done  # an entity is one character
    assert f"<svg><title>{HASH}</title></svg>" in done and "short words stay whole" in done
    nested = "<table><tr><td><table><tr><td>x</td></tr></table></td></tr></table><p>after</p>"
    boxed = parse(scrolling_tables(nested))
    (box,) = [d for d in boxed.find_all("div")]
    assert "overflow-x:auto" in box.attrs["style"] and len(list(box.find_all("table"))) == 2
    assert boxed.find("p").parent is boxed  # what follows the table is outside the box


@pytest.mark.slow  # a real chromium
@pytest.mark.parametrize("rasterized", [True, False], ids=["png", "svg"])
def test_the_mail_fits_a_phone_and_its_chart_text_is_readable_there(
    status_project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, rasterized: bool
) -> None:
    from playwright.sync_api import sync_playwright

    from servers import CHROMIUM_ARGS, chromium_path

    if not rasterized:  # the SVG stays in the mail: chromium draws it, so its text is measured
        monkeypatch.setattr("dashsite.mail.message.svg_to_png", lambda svg: None)
    page = render_for_mail(load_config(status_project), "web")
    html = page.html
    for cid, mime, data in page.images:
        html = html.replace(f"cid:{cid}", f"data:{mime};base64,{base64.b64encode(data).decode()}")
    mail = tmp_path / "mail.html"
    mail.write_text(html)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        view = browser.new_page(viewport={"width": 390, "height": 800})
        view.goto(mail.as_uri())
        assert view.evaluate("document.documentElement.scrollWidth") <= 390
        if rasterized:
            charts = view.evaluate("""() => [...document.images].filter(i => i.alt.startsWith('Latency'))
                .map(i => ({shown: i.getBoundingClientRect().width, drawn: +i.getAttribute('width'),
                            pixels: i.naturalWidth}))""")
            # shown at the width it is drawn at (2x pixels), so its text is the SVG's size
            assert charts == [{"shown": 340, "drawn": 340, "pixels": 680}]
        else:
            texts = view.evaluate("""() => [...document.querySelectorAll('svg text')].map(t => {
                const r = t.getBoundingClientRect(), svg = t.ownerSVGElement;
                const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
                return {text: t.textContent, size: parseFloat(t.getAttribute('font-size')) * scale,
                        x: r.x, y: r.y, w: r.width, h: r.height};
            })""")
            assert len(texts) >= 8 and "no data since 17:15 UTC" in [t["text"] for t in texts]
            assert min(t["size"] for t in texts) >= 11, texts
            assert min(t["h"] for t in texts) >= 11, texts
            overlapping = [(a["text"], b["text"]) for i, a in enumerate(texts)
                           for b in texts[i + 1:]
                           if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
                           and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]]
            assert overlapping == []
        view.screenshot(path=str(tmp_path / "mail-390.png"), full_page=True)
        browser.close()


class PickyInbox(Inbox):
    """Refuses any recipient at refuse.example."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if address.endswith("@refuse.example"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_some_recipients_refused_says_who_got_it(project: Path) -> None:
    """A CI retry after 'refused' mailed the others twice: the line says who got it."""
    handler = PickyInbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp_config(project, port, security="none")
        done = cli(project, "mail", "ops", "--to", "x@refuse.example", "ok@example.com")
    finally:
        controller.stop()
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "dashsite: sent to ok@example.com; the SMTP server refused: x@refuse.example — check "
        "the refused addresses, and send only to them again")
    assert [e.rcpt_tos for e in handler.envelopes] == [["ok@example.com"]]


def test_a_missing_cafile_is_one_line_naming_it(project: Path) -> None:
    smtp_config(project, 2525, security="none", cafile="/no/such/ca.pem")
    done = cli(project, "mail", "ops", "--to", "a@example.com")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "dashsite: [mail] cafile '/no/such/ca.pem' cannot be read: No such file or directory — "
        "give the path of a PEM file of CA certificates, or leave cafile out")


def test_an_incident_that_just_began_is_not_0_ms_long_in_the_mail(tmp_path: Path) -> None:
    module = "from dashsite import collector\n@collector\ndef api():\n    raise RuntimeError('down')\n"
    write_project(tmp_path, {"api": {"dashboard.py": module, "template.html": "<p>x</p>"}})
    build(tmp_path, version_id="v1")
    out = tmp_path / "out.eml"
    assert cli(tmp_path, "mail", "api", "--to", "a@example.com", "--eml", str(out)).returncode == 0
    parsed = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    text = " ".join(parse(parsed.get_body(("html",)).get_content()).text().split())
    assert "(just begun, 1 version)" in text and "0 ms so far" not in text
