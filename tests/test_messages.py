"""Clear one-line messages where there used to be an internal error (hardening, section 5)."""

from __future__ import annotations

import email
import errno
import json
import os
import socket
from email import policy
from pathlib import Path

import pytest

from dashsite.cli import _os_error_line
from dashsite.store import write
from dashsite.store.write import StagedSite
from projects import cli, simple, vdir, write_project


def _one_line(done) -> str:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    lines = [line for line in done.stderr.splitlines()
             if not line.startswith(("Building", "Built", "["))]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_binary_config_file(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()})
    (tmp_path / "dashsite.toml").write_bytes(b"\xff\xfe\x00binary\x00")
    assert _one_line(cli(tmp_path, "build")).startswith("dashsite.toml: not UTF-8 text")


@pytest.mark.parametrize("config", ["timeout = nan", "import_timeout = inf",
                                    "[mail]\ntimeout = nan"])
def test_nan_and_inf_are_not_seconds(tmp_path: Path, config: str) -> None:
    write_project(tmp_path, {"svc": simple()}, config=config + "\n")
    assert "must be a positive number of seconds" in _one_line(cli(tmp_path, "build"))


def test_lock_timeout_nan_is_refused(tmp_path: Path) -> None:
    done = cli(tmp_path, "build", "--lock-timeout", "nan")
    assert done.returncode == 2 and "must be a number of seconds" in done.stderr


@pytest.mark.parametrize("name", ["refresh", "is_latest", "dashboard_root", "StatusCell",
                                  "content"])
def test_collector_names_that_would_hide_template_names(tmp_path: Path, name: str) -> None:
    module = f"from dashsite import collector\n\n@collector(name={name!r})\ndef x():\n    return 1\n"
    write_project(tmp_path, {"bad": {"dashboard.py": module, "template.html": "x"},
                             "good": simple()})
    line = _one_line(cli(tmp_path, "build"))
    assert line.startswith("dashboards/bad/dashboard.py: collector name")
    assert f"would hide the template's own '{name}'" in line


def test_extends_a_missing_layout_says_where_to_put_it(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": {"dashboard.py": "", "template.html":
                                     "x\n{% extends 'nope.html' %}\n"}})
    line = _one_line(cli(tmp_path, "build"))
    assert line.startswith("dashboards/svc/template.html:2: template 'nope.html' not found — put")
    assert "dashboards/_layouts/" in line


def test_title_with_a_line_break_is_refused(tmp_path: Path) -> None:
    module = 'TITLE = "Ops\\r\\nBcc: victim@example.com"\n'
    write_project(tmp_path, {"svc": {"dashboard.py": module, "template.html": "x"}})
    assert "TITLE must be one line of text" in _one_line(cli(tmp_path, "build"))


def test_mail_subject_stays_one_header_and_to_takes_several(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()})
    assert cli(tmp_path, "build").returncode == 0
    out = tmp_path / "m.eml"
    done = cli(tmp_path, "mail", "svc", "--to", "a@example.com", "b@example.com",
               "--subject", "Hi\r\nBcc: victim@example.com", "--eml", str(out))
    assert done.returncode == 0, done.stderr
    message = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    assert message["To"] == "a@example.com, b@example.com"
    assert message["Bcc"] is None and message["Subject"] == "Hi Bcc: victim@example.com"


def test_mail_from_with_a_line_break_is_refused(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()}, config='[mail]\nfrom = "a@b.c\\nBcc: x@y.z"\n')
    assert cli(tmp_path, "build").returncode == 0
    line = _one_line(cli(tmp_path, "mail", "svc", "--to", "a@example.com", "--eml", "x.eml"))
    assert "is not one email address" in line


def test_mail_with_a_missing_data_file(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()})
    assert cli(tmp_path, "build", "--version-id", "v1").returncode == 0
    data_file = vdir(tmp_path / "site", "svc", "v1") / "data.json"
    data_file.unlink()
    line = _one_line(cli(tmp_path, "mail", "svc", "--to", "a@example.com", "--eml", "x.eml"))
    shown = data_file.relative_to(tmp_path)
    assert line.startswith(f"{shown}: the latest version's data is missing")


def test_serve_on_a_port_in_use(tmp_path: Path) -> None:
    write_project(tmp_path, {"svc": simple()})
    assert cli(tmp_path, "build").returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_line(cli(tmp_path, "serve", "--port", str(port), timeout=60))
    assert "the port is in use" in line


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_system_errors_are_one_line_with_what_to_do(code: int) -> None:
    line = _os_error_line(OSError(code, os.strerror(code), "site/svc/index.html"))
    assert line.startswith(f"site/svc/index.html: {os.strerror(code)} — ")


def test_an_automatic_version_id_steps_over_an_orphan_folder(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from projects import build

    write_project(tmp_path, {"svc": simple()})
    moment = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)
    build(tmp_path, clock=lambda: moment)
    orphan = tmp_path / "site" / "svc" / "20261127T201500Z-01"
    orphan.mkdir()
    result = build(tmp_path, clock=lambda: moment)
    assert result.version_id == "20261127T201500Z-02" and not result.problems


def test_a_build_never_renames_the_site_folder(tmp_path: Path) -> None:
    from projects import build

    write_project(tmp_path, {"svc": simple()}, config='unchanged = "version"\n')
    build(tmp_path, version_id="v1")
    site = tmp_path / "site"
    inode = site.stat().st_ino
    build(tmp_path, version_id="v2")  # a mount point (a Docker volume) stays usable
    assert site.stat().st_ino == inode
    assert (vdir(site, "svc", "v2") / "index.html").is_file()


def test_a_pulled_site_that_cannot_be_renamed_is_updated_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    (site / "svc" / "old").mkdir(parents=True)
    (site / "svc" / "old" / "index.html").write_text("old")
    (site / "manifest.json").write_text("{}")
    inode = site.stat().st_ino
    staged = StagedSite(site)
    staged.start_empty()
    (staged.path / "svc" / "v1").mkdir(parents=True)
    (staged.path / "svc" / "v1" / "index.html").write_text("pulled")
    (staged.path / "manifest.json").write_text('{"pulled": true}')

    def busy(a: Path, b: Path) -> bool:
        raise OSError(errno.EBUSY, "Device or resource busy", str(b))

    monkeypatch.setattr(write, "exchange", busy)
    staged.commit()
    assert site.stat().st_ino == inode
    assert (site / "svc" / "v1" / "index.html").read_text() == "pulled"
    assert json.loads((site / "manifest.json").read_text()) == {"pulled": True}
    assert not (site / "svc" / "old").exists()
    assert not list((tmp_path / ".dashsite").glob("site.staging-*"))


def test_a_symlinked_folder_in_the_site_is_one_line_naming_it(tmp_path: Path) -> None:
    write_project(tmp_path / "p", {"svc": simple()})
    assert cli(tmp_path / "p", "build").returncode == 0
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "p" / "site" / "svc").rename(elsewhere)
    (tmp_path / "p" / "site" / "svc").symlink_to(elsewhere)
    line = _one_line(cli(tmp_path / "p", "build"))
    assert line.startswith(f"site/svc: is a symbolic link to {elsewhere}, outside the site — ")
    before = sorted(p.name for p in elsewhere.iterdir())
    _one_line(cli(tmp_path / "p", "build"))
    assert sorted(p.name for p in elsewhere.iterdir()) == before  # nothing written through it


def test_terminal_output_escapes_control_characters(tmp_path: Path) -> None:
    module = (
        "from dashsite import collector\n\n@collector\ndef evil():\n"
        "    raise RuntimeError('\\x1b]0;pwned\\x07\\ndashboards/x/dashboard.py:1: forged')\n"
    )
    write_project(tmp_path, {"svc": {"dashboard.py": module, "template.html": "{{ evil }}"}})
    done = cli(tmp_path, "build")
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert not any(line.startswith("dashboards/x/") for line in done.stderr.splitlines())
    failed = [line for line in done.stderr.splitlines() if "collector 'evil' failed" in line]
    assert len(failed) == 1 and "\\x1b]0;pwned\\x07\\ndashboards/x/dashboard.py:1: forged" in failed[0]


def test_a_build_that_filed_nothing_says_so(tmp_path: Path) -> None:
    write_project(tmp_path, {"bad": {"dashboard.py": "def oops(:\n", "template.html": "x"}})
    done = cli(tmp_path, "build", "--version-id", "v9")
    assert done.returncode == 1
    assert "Built no dashboard (no version filed)" in done.stderr and "v9" not in done.stderr


def test_an_error_in_a_layout_names_the_layout_and_its_line(tmp_path: Path) -> None:
    # The line comes from Jinja's rewritten traceback, found without any private Jinja name.
    write_project(tmp_path, {"svc": simple()})
    layouts = tmp_path / "dashboards" / "_layouts"
    layouts.mkdir()
    (layouts / "base.html").write_text(
        "<!doctype html>\n<title>{{ dashboard.title }}</title>\n\n{{ no_such_thing.x }}\n"
        "{% block content %}{% endblock %}\n"
    )
    done = cli(tmp_path, "build")
    lines = [line for line in done.stderr.splitlines()
             if not line.startswith(("Building", "["))]  # (not the progress)
    assert done.returncode == 1
    # The dashboard's page, then the index (which has no `dashboard`): both relative paths.
    assert lines[0].startswith("dashboards/_layouts/base.html:4: 'no_such_thing' is undefined")
    assert lines[1].startswith("dashboards/_layouts/base.html:2: 'dashboard' is undefined")
    assert len(lines) == 2
