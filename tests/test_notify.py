"""dashsite notify: once per transition, thresholds, reminders, maintenance, grouping, ledger."""

from __future__ import annotations

import email
import json
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from dashsite.notify.ledger import LEDGER_FILE
from notify_helpers import Receiver, Sequence_, Silent
from projects import cli


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def config(url: str, extra: str = "", target: str = "", top: str = "") -> str:
    return (
        'base_url = "https://status.example.com/ops/"\n'
        f"[notify]\nretries = 0\ntimeout = 5\n{top}\n"
        f'[notify.targets.ops]\nurl = "{url}"\n{target}\n{extra}'
    )


def changes(receiver: Receiver) -> list[tuple[str, str]]:
    """(dashboard, change) of every change every post carried, in order."""
    return [(c["dashboard"], c["change"]) for p in receiver.payloads() for c in p["changes"]]


def notify(root: Path, *args: str) -> Any:
    done = cli(root, "notify", *args)
    assert done.returncode == 0, done.stderr
    return done


def test_each_transition_once_and_never_twice(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url + "/hook"))
    for state in ["ok", "fail", "fail", "ok", "fail", "ok", "ok"]:
        run.build(all=state)
        notify(tmp_path)
        notify(tmp_path)  # run twice at the same commit: nothing more
    assert changes(hook) == [
        ("api", "opened"),
        ("api", "recovered"),
        ("api", "opened"),
        ("api", "recovered"),
    ]
    first = hook.payloads()[0]
    assert first["status"] == "error"
    assert first["title"].startswith("Api: down")
    assert first["changes"][0]["failed"] == {"api": "ConnectionError: refused"}
    ledger = json.loads((tmp_path / "site" / LEDGER_FILE).read_text())
    entries = ledger["targets"]["ops"]["sent"]
    assert len(entries) == 4 and all(e["delivered"] for e in entries.values())
    assert "hook" not in json.dumps(ledger)  # target names only, never their URLs


def test_thresholds_ignore_blips_and_flaps(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url, target="fail_after = 2\nrecover_after = 2"))
    states = ["ok", "fail", "ok", "ok",  # a blip: nothing
              "fail", "ok", "fail", "fail",  # opened at the second failure in a row
              "ok", "fail", "ok", "ok"]  # a flap inside: one recovery, after two OKs
    for state in states:
        run.build(all=state)
        notify(tmp_path)
    assert changes(hook) == [("api", "opened"), ("api", "recovered")]
    opened, recovered = hook.payloads()
    assert opened["changes"][0]["at"].endswith("20:50:00+00:00")  # version 8: T0 + 35 min
    assert opened["changes"][0]["since"].endswith("20:35:00+00:00")  # the episode's start
    assert recovered["changes"][0]["at"].endswith("21:10:00+00:00")


def test_time_threshold(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url, target='fail_after = 9\nfail_after_time = "10m"'))
    for state in ["ok", "fail", "fail", "fail", "fail", "ok"]:
        run.build(all=state)
        notify(tmp_path)
    assert changes(hook) == [("api", "opened"), ("api", "recovered")]
    assert hook.payloads()[0]["changes"][0]["at"].endswith("20:30:00+00:00")  # 10 min after 20:20


def test_reminders_and_worsening(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url, target='remind_every = "10m"'))
    for state in ["ok", "warn", "warn", "fail", "fail", "fail", "crit", "ok"]:
        run.build(all=state)
        notify(tmp_path)
    assert changes(hook) == [
        ("api", "opened"),  # degraded
        ("api", "worsened"),  # down
        ("api", "ongoing"),  # 10 minutes after the last notice
        ("api", "worsened"),  # critical
        ("api", "recovered"),
    ]
    assert [p["status"] for p in hook.payloads()] == ["warning", "error", "error", "critical", "ok"]


def test_only_the_kinds_asked_for(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api", "db"], config(hook.url, target='on = ["recovered"]\ndashboards = ["db"]'))
    for state in ["ok", "fail", "ok"]:
        run.build(all=state)
        notify(tmp_path)
    assert changes(hook) == [("db", "recovered")]


def test_quiet_during_declared_maintenance(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api", "db"], config(hook.url))
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "upgrade.md").write_text(
        '+++\ntitle = "Upgrade"\ndashboards = ["api"]\nseverity = "maintenance"\n'
        "start = 2026-11-27T20:20:00Z\nend = 2026-11-27T20:30:00Z\n+++\n"
    )
    # 20:15 ok, 20:20 fail (in the window), 20:25 fail (in it), 20:30 fail (after), 20:35 ok
    for state in ["ok", "fail", "fail", "fail", "ok"]:
        run.build(all=state)
        notify(tmp_path)
    api = [c for c in hook.payloads() if c["changes"][0]["dashboard"] == "api"]
    db = [c for c in hook.payloads() if c["changes"][0]["dashboard"] == "db"]
    assert [c["changes"][0]["change"] for c in db] == ["opened", "recovered"]
    assert db[0]["changes"][0]["at"].endswith("20:20:00+00:00")
    assert [c["changes"][0]["change"] for c in api] == ["opened", "recovered"]
    assert api[0]["changes"][0]["at"].endswith("20:30:00+00:00")  # the first version after it


def test_grouped_when_many_dashboards_change(tmp_path: Path, hook: Receiver) -> None:
    slugs = ["a", "b", "c", "d", "e"]
    run = Sequence_(tmp_path, slugs, config(hook.url, top="group_over = 3"))
    run.build(all="ok")
    notify(tmp_path)
    run.build(all="fail")
    notify(tmp_path)
    assert len(hook.posts) == 1  # five dashboards down: one message
    grouped = hook.payloads()[0]
    assert sorted(c["dashboard"] for c in grouped["changes"]) == slugs
    assert "5 dashboards changed" in grouped["title"]
    assert grouped["link"] == "https://status.example.com/ops/index.html"
    run.build(all="ok", a="fail", b="fail")  # three recover: each its own message
    notify(tmp_path)
    assert [len(p["changes"]) for p in hook.payloads()] == [5, 1, 1, 1]


def test_link_opens_the_version_page(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url))
    run.build(all="ok")
    run.build(all="fail")
    notify(tmp_path)
    link = hook.payloads()[0]["link"]
    base = "https://status.example.com/ops/"
    assert link.startswith(base)
    page = tmp_path / "site" / link[len(base):]
    assert page.is_file()
    assert "api" in page.read_text()
    assert link in hook.payloads()[0]["text"]


HOSTILE = "fail:<script>alert(1)</script>\n\x1b[31mred\x1b[0m [click](https://evil.example/x) & more"


def test_hostile_error_text_arrives_escaped(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url))
    run.build(all="ok")
    run.build(all=HOSTILE)
    notify(tmp_path)
    ((_, raw),) = hook.posts
    assert b"<script" not in raw and b"\x1b" not in raw and b"\\u001b" not in raw
    payload = json.loads(raw)
    error = payload["changes"][0]["failed"]["api"]
    assert "\n" not in error and "\x1b" not in error and "evil.example" not in error
    assert "(link removed)" in error
    markdown = payload["markdown"]
    assert "&lt;script&gt;" in markdown and "<script" not in markdown
    assert "](" not in markdown.replace("\\](", "")  # no live Markdown link
    assert "evil.example" not in payload["text"] and "\x1b" not in payload["text"]
    assert "\n" not in payload["title"]


def test_a_failed_send_is_kept_and_sent_next_run(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url))
    run.build(all="ok")
    notify(tmp_path)
    run.build(all="fail")
    hook.answer = lambda n: (500, {})
    done = cli(tmp_path, "notify", "--strict")
    assert done.returncode == 1
    assert "not delivered to ops" in done.stderr and "HTTP 500" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    ledger = json.loads((tmp_path / "site" / LEDGER_FILE).read_text())
    (entry,) = ledger["targets"]["ops"]["sent"].values()
    assert entry["delivered"] is False and "HTTP 500" in entry["error"]
    assert cli(tmp_path, "notify").returncode == 0  # still failing, no --strict: exit 0
    hook.answer = lambda n: (200, {})
    notify(tmp_path)
    notify(tmp_path)
    assert [code for code in range(len(hook.posts))]  # posts were made
    assert changes(hook).count(("api", "opened")) == 3  # two failed tries, one delivered
    ledger = json.loads((tmp_path / "site" / LEDGER_FILE).read_text())
    (entry,) = ledger["targets"]["ops"]["sent"].values()
    assert entry["delivered"] is True and entry["tries"] == 3


def test_429_and_500_are_retried_with_backoff(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url, top="").replace("retries = 0", "retries = 2"))
    run.build(all="ok")
    run.build(all="fail")
    hook.answer = lambda n: {1: (429, {"Retry-After": "0"}), 2: (503, {})}.get(n, (200, {}))
    notify(tmp_path)
    assert len(hook.posts) == 3  # 429, 503, then delivered
    ledger = json.loads((tmp_path / "site" / LEDGER_FILE).read_text())
    (entry,) = ledger["targets"]["ops"]["sent"].values()
    assert entry["delivered"] is True and entry["tries"] == 3


def test_a_silent_endpoint_does_not_hang_the_run(tmp_path: Path, hook: Receiver) -> None:
    silent = Silent()
    try:
        text = config(silent.url).replace("timeout = 5", "timeout = 1")
        text += f'[notify.targets.backup]\nurl = "{hook.url}"\n'
        run = Sequence_(tmp_path, ["api"], text)
        run.build(all="ok")
        run.build(all="fail")
        done = cli(tmp_path, "notify")
        assert done.returncode == 0
        assert "not delivered to ops" in done.stderr
        assert changes(hook) == [("api", "opened")]  # the other target still got it
        ledger = json.loads((tmp_path / "site" / LEDGER_FILE).read_text())
        (entry,) = ledger["targets"]["ops"]["sent"].values()
        assert entry["delivered"] is False
    finally:
        silent.close()


def test_dry_run_prints_and_sends_nothing(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url))
    run.build(all="ok")
    run.build(all="fail")
    done = notify(tmp_path, "--dry-run")
    assert "would send to ops: Api: down" in done.stderr
    assert "ConnectionError: refused" in done.stdout
    assert hook.posts == []
    assert not (tmp_path / "site" / LEDGER_FILE).exists()
    notify(tmp_path)
    assert changes(hook) == [("api", "opened")]


def test_test_target_sends_a_sample(tmp_path: Path, hook: Receiver) -> None:
    Sequence_(tmp_path, ["api"], config(hook.url + "/x"))
    done = notify(tmp_path, "--test", "ops")
    assert "sent a test message to ops" in done.stderr
    assert hook.posts[0][0] == "/x" and hook.payloads()[0]["status"] == "error"
    missing = cli(tmp_path, "notify", "--test", "nope")
    assert missing.returncode == 1 and "no notify target named 'nope'" in missing.stderr


def test_secrets_from_the_environment(tmp_path: Path, hook: Receiver,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url + "/${HOOK_TOKEN}"))
    run.build(all="fail")
    monkeypatch.delenv("HOOK_TOKEN", raising=False)
    done = cli(tmp_path, "notify")
    assert done.returncode == 1
    assert done.stderr.startswith("dashsite.toml: [notify.targets.ops] url: ${HOOK_TOKEN} is not set")
    monkeypatch.setenv("HOOK_TOKEN", "s3cret")
    notify(tmp_path, "--test", "ops")
    assert hook.posts[0][0] == "/s3cret"
    ledger = tmp_path / "site" / LEDGER_FILE
    assert not ledger.exists() or "s3cret" not in ledger.read_text()


def test_bad_notify_config_lists_every_problem(tmp_path: Path) -> None:
    Sequence_(tmp_path, ["api"], '[notify]\ncolour = 1\n[notify.targets.ops]\nurl = "https://x"\n'
              'fail_after = 0\nremind_every = "soon"\non = ["exploded"]\n'
              'dashboards = ["Bad Name"]\n')
    done = cli(tmp_path, "notify")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith("dashsite.toml: ") for line in lines)
    assert "dashboards: 'Bad Name' is not a dashboard's name" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def apprise_pools() -> None:
    """apprise keeps process-wide worker pools: start them before the leak check looks."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        core = pytest.importorskip("apprise.apprise")
    for name in ("get_shared_executor", "get_coordinator_executor"):
        if hasattr(core, name):
            getattr(core, name)().submit(lambda: None).result()


def test_apprise_json_target(tmp_path: Path, hook: Receiver, apprise_pools: None) -> None:
    port = hook.server.server_address[1]
    run = Sequence_(tmp_path, ["api"], config(f"json://127.0.0.1:{port}/apprise"))
    run.build(all="ok")
    run.build(all="fail:<b>bold</b>")
    notify(tmp_path)
    (payload,) = hook.payloads("/apprise")
    assert payload["title"].startswith("Api: down")
    assert "&lt;b&gt;bold&lt;/b&gt;" in payload["message"] and "<b>" not in payload["message"]
    assert payload["type"] == "failure"
    assert "https://status.example.com/ops/api/" in payload["message"]


def test_an_apprise_url_it_cannot_read_is_a_config_error_at_once(
    tmp_path: Path, apprise_pools: None
) -> None:
    """Not "nothing to notify" until a change comes, then "not delivered" on every run for
    ever: the url is checked when the settings are read, the key named, the url not
    repeated (it may hold a token)."""
    Sequence_(tmp_path, ["api"], config("bogus://sec${HOME}ret"))
    done = cli(tmp_path, "notify")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("dashsite.toml: [notify.targets.ops]: apprise does not understand "
                           "this bogus:// url")
    assert "sec" not in line


def test_an_apprise_failure_is_told_without_its_log_prefix(
    tmp_path: Path, hook: Receiver, apprise_pools: None
) -> None:
    hook.answer = lambda n: (500, {})
    port = hook.server.server_address[1]
    run = Sequence_(tmp_path, ["api"], config(f"json://127.0.0.1:{port}/apprise"))
    run.build(all="ok")
    run.build(all="fail")
    done = cli(tmp_path, "notify")
    said = [line for line in done.stderr.splitlines() if "not delivered" in line]
    assert len(said) == 1, done.stderr
    assert re.search(r"after 1 tr(y|ies): Failed to send JSON POST notification", said[0]), said
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", said[0])


def test_a_broken_template_is_told_before_any_change_comes(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url, top='template = "notify.md"'))
    (tmp_path / "notify.md").write_text("{{ changes | length }} changes")
    run.build(all="ok")
    notify(tmp_path)  # nothing to tell: the first run only notes where things stand
    (tmp_path / "notify.md").unlink()
    done = cli(tmp_path, "notify")
    assert done.returncode == 1 and done.stderr.startswith("notify.md: cannot read"), done.stderr
    (tmp_path / "notify.md").write_text("line one\n{{ x }\n")
    done = cli(tmp_path, "notify")
    assert done.returncode == 1
    assert done.stderr.startswith("notify.md:2: unexpected '}' — fix the template"), done.stderr


def test_a_template_failing_as_it_runs_names_its_line(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url, top='template = "notify.md"'))
    (tmp_path / "notify.md").write_text("{% for c in changes %}\n{{ c.nosuch.attr }}\n{% endfor %}")
    run.build(all="ok")
    run.build(all="fail")
    done = cli(tmp_path, "notify")
    assert done.returncode == 1
    assert done.stderr.startswith("notify.md:2: the notify template failed"), done.stderr


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


def test_mail_target_through_the_smtp_settings(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        text = config("mailto:ops@example.com,oncall@example.com")
        text = text.replace("[notify]", f'[mail]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
                            'from = "status@example.com"\n[notify]')
        run = Sequence_(tmp_path, ["api"], text)
        run.build(all="ok")
        run.build(all=HOSTILE)
        notify(tmp_path)
    finally:
        controller.stop()
    (envelope,) = inbox.envelopes
    assert sorted(envelope.rcpt_tos) == ["oncall@example.com", "ops@example.com"]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"].startswith("Api: down")
    body = message.get_body().get_content()
    assert "\x1b" not in body and "evil.example" not in body
    assert "https://status.example.com/ops/api/" in body


def test_notifier_from_library_code(tmp_path: Path, hook: Receiver) -> None:
    from dashsite import MonitoringService, Notifier

    state = {"fail": False}

    def api() -> str:
        if state["fail"]:
            raise ConnectionError("refused")
        return "fine"

    service = MonitoringService("{{ api }}", {"api": api}, fail_fast=False)
    notifier = Notifier([hook.url + "/lib"], state=tmp_path / "state.json", retries=0)
    for fail in [False, True, True, False]:
        state["fail"] = fail
        notifier.notify_result("nightly", service.run_sync(), link="https://example.com/r")
    assert [p["status"] for p in hook.payloads()] == ["error", "ok"]
    assert "ConnectionError" in hook.payloads()[0]["text"] or "refused" in hook.payloads()[0]["text"]
    assert "https://example.com/r" in hook.payloads()[0]["text"]


def test_a_target_that_is_down_does_not_make_the_others_hear_twice(
    tmp_path: Path, hook: Receiver
) -> None:
    """With state, each target is told each change once: one that is down is tried on the
    next call, the one that got it is not sent it again (it was, every call, while the
    other stayed down); a state file of the old form (name → status) still counts."""
    import socket

    from dashsite import MonitoringService, Notifier

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/down"
    failing = {"now": True}

    def api() -> str:
        if failing["now"]:
            raise ConnectionError("refused")
        return "fine"

    service = MonitoringService("{{ api }}", {"api": api}, fail_fast=False)
    state = tmp_path / "state.json"
    state.write_text('{"nightly": "ok"}\n')  # told "ok" before targets were told apart
    notifier = Notifier([hook.url + "/lib", dead], state=state, retries=0, timeout=2)
    first = notifier.notify_result("nightly", service.run_sync())
    assert [d.delivered for d in first] == [True, False]
    again = notifier.notify_result("nightly", service.run_sync())
    assert [d.delivered for d in again] == [False]  # only the one still owed the news
    assert [p["status"] for p in hook.payloads()] == ["error"]
    assert "(version )" not in hook.payloads()[0]["text"]
    failing["now"] = False
    notifier.notify_result("nightly", service.run_sync())
    assert [p["status"] for p in hook.payloads()] == ["error", "ok"]
    # a target added while all is well is not told "recovered"
    later = Notifier([hook.url + "/lib", hook.url + "/new"], state=state, retries=0, timeout=2)
    assert later.notify_result("nightly", service.run_sync()) == []
    assert [p["status"] for p in hook.payloads()] == ["error", "ok"]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)


def test_fresh_ci_checkouts_send_each_change_once(tmp_path: Path, hook: Receiver) -> None:
    """pull → build → publish → notify → publish, from a fresh checkout every run."""
    remote, project = tmp_path / "remote.git", tmp_path / "project"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    project.mkdir()
    run = Sequence_(project, ["api"], config(hook.url))
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "config", "user.name", "Test")
    git(project, "config", "user.email", "test@example.com")
    (project / ".gitignore").write_text("/site/\n/state/\n")
    git(project, "add", ".")
    git(project, "commit", "--quiet", "-m", "dashboards")
    git(project, "remote", "add", "origin", str(remote))
    for state in ("ok", "fail", "fail", "ok"):
        shutil.rmtree(project / "site", ignore_errors=True)
        assert cli(project, "pull", "gh-pages", "--missing-ok").returncode == 0
        run.build(all=state)
        assert cli(project, "publish", "gh-pages").returncode == 0
        notify(project)
        if state == "fail":
            notify(project)  # a retried job at the same commit
        assert cli(project, "publish", "gh-pages").returncode == 0
    assert changes(hook) == [("api", "opened"), ("api", "recovered")]


@pytest.mark.slow  # kill -9 of a real process
def test_kill_9_mid_run_then_retry_sends_nothing_twice(tmp_path: Path, hook: Receiver) -> None:
    import os
    import signal
    import sys
    import time

    silent = Silent()
    try:
        text = config(hook.url + "/a").replace("timeout = 5", "timeout = 60")
        text += f'[notify.targets.pager]\nurl = "{silent.url}"\n'
        run = Sequence_(tmp_path, ["api"], text)
        run.build(all="ok")
        notify(tmp_path)
        run.build(all="fail")
        process = subprocess.Popen(
            [sys.executable, "-m", "dashsite", "-C", str(tmp_path), "notify"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while silent.accepted() == 0 and time.monotonic() < deadline:
            assert process.poll() is None
        assert silent.accepted() == 1  # the first target has its message; the second hangs
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        ledger = json.loads((tmp_path / "site" / LEDGER_FILE).read_text())
        assert [e["delivered"] for e in ledger["targets"]["ops"]["sent"].values()] == [True]
        pending = list(ledger["targets"]["pager"]["sent"].values())
        assert [(e["delivered"], e["tries"]) for e in pending] == [(False, 0)]
        # The retry: the pager's endpoint is back (at a new address); the same build.
        (tmp_path / "dashsite.toml").write_text(text.replace(silent.url, hook.url + "/b"))
        notify(tmp_path)
        notify(tmp_path)
        assert [p for p, _ in hook.posts] == ["/a", "/b"]
    finally:
        silent.close()


def test_no_targets_writes_nothing(tmp_path: Path) -> None:
    run = Sequence_(tmp_path, ["api"], "")
    run.build(all="fail")
    done = notify(tmp_path)
    assert "no targets in [notify]" in done.stderr
    assert not (tmp_path / "site" / LEDGER_FILE).exists()


def test_a_damaged_or_tampered_ledger_is_one_line(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url))
    run.build(all="fail")
    ledger = tmp_path / "site" / LEDGER_FILE
    for text in ("{not json", json.dumps({"schema": 1, "seen": {"../x": {"id": "v", "at": "now"}}})):
        ledger.write_text(text)
        done = cli(tmp_path, "notify")
        assert done.returncode == 1 and hook.posts == []
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"site/{LEDGER_FILE}: the notification ledger is unreadable")
        assert "dashsite pull" in line


def test_a_custom_template_runs_sandboxed(tmp_path: Path, hook: Receiver) -> None:
    run = Sequence_(tmp_path, ["api"], config(hook.url, top='template = "notify.txt"'))
    (tmp_path / "notify.txt").write_text(
        "{% for c in changes %}{{ c.dashboard }} is {{ c.word }}: "
        "{% for f in c.failed %}{{ f.name }}={{ f.error }}{% endfor %}{% endfor %}"
    )
    run.build(all="ok")
    run.build(all="fail:<i>x</i>")
    notify(tmp_path)
    payload = hook.payloads()[0]
    assert payload["text"] == "Api is down: api=ConnectionError: <i>x</i>"
    assert payload["markdown"] == "Api is down: api=ConnectionError: &lt;i&gt;x&lt;/i&gt;"
    (tmp_path / "notify.txt").write_text("{{ changes.__class__.__mro__[1].__subclasses__() }}")
    run.build(all="ok")
    done = cli(tmp_path, "notify")
    assert done.returncode == 1
    assert done.stderr.startswith("notify.txt:1: the notify template failed")
    (tmp_path / "notify.txt").write_text("line one\n{% for %}")
    assert cli(tmp_path, "notify").stderr.startswith("notify.txt:2: ")


def test_notifier_send_and_a_dead_target(tmp_path: Path, hook: Receiver) -> None:
    from dashsite import Notifier

    silent = Silent()
    try:
        notifier = Notifier([hook.url + "/one", silent.url], timeout=1, retries=0)
        first, second = notifier.send("Nightly\nreport", "3 jobs failed", link="https://x.example/r")
    finally:
        silent.close()
    assert first.delivered and not second.delivered and "no answer" in second.error
    (payload,) = hook.payloads("/one")
    assert payload["title"] == "Nightly report"
    assert payload["text"] == "3 jobs failed\n\nhttps://x.example/r"
    with pytest.raises(Exception, match=r"\$\{NOPE_TOKEN\} is not set"):
        Notifier(["https://h.example/${NOPE_TOKEN}"], environ={})
