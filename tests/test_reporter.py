from __future__ import annotations

import io

import pytest

from dashsite.core.levels import StatusLevel
from dashsite.core.reporter import ConsoleReporter, Event


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def feed(reporter: ConsoleReporter) -> None:
    reporter.emit(Event("start", message="Building 2 dashboard(s)", data={"dashboards": 2}))
    reporter.emit(Event("dashboard", "a", level=StatusLevel.OK))
    reporter.emit(Event("problem", "b", "dashboards/b/template.html:3: oops"))
    reporter.emit(Event("dashboard", "c", level=StatusLevel.WARNING))
    reporter.emit(Event("finish", message="Built 2 dashboards", level=StatusLevel.OK))


def test_plain_lines_without_a_terminal() -> None:
    out = io.StringIO()
    feed(ConsoleReporter(out))
    assert out.getvalue().splitlines() == [
        "Building 2 dashboard(s)", "[1/2] a: ok", "dashboards/b/template.html:3: oops",
        "[2/2] c: warning", "Built 2 dashboards",
    ]


def test_progress_line_and_colour_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    out = Terminal()
    feed(ConsoleReporter(out))
    text = out.getvalue()
    assert "\r\x1b[K[1/2] a \x1b[32mok\x1b[0m" in text
    assert "\x1b[31mdashboards/b/template.html:3: oops\x1b[0m" in text
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    feed(ConsoleReporter(plain))
    assert "\x1b[3" not in plain.getvalue() and "\r\x1b[K" in plain.getvalue()


def test_quiet_prints_only_problems() -> None:
    out = io.StringIO()
    feed(ConsoleReporter(out, quiet=True))
    assert out.getvalue().splitlines() == ["dashboards/b/template.html:3: oops"]
