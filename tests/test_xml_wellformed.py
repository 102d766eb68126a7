"""Feeds, badges and drawn SVG stay well-formed XML whatever text they carry (issue 22, B7)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from dashsite.core.xmltext import xml_text
from dashsite.types.charts import BarChart, LineChart, StatusTimeline
from dashsite.types.sparkline import Sparkline
from projects import build, fixed_clock, write_project

T0 = datetime(2026, 11, 27, 20, 15, tzinfo=UTC)
# Every C0 control XML 1.0 forbids, a lone surrogate and U+FFFF, plus ESC colour codes.
CONTROLS = "".join(chr(c) for c in range(0x20) if c not in (9, 10, 13))
NASTY = f"bad\x00\x01\x08\x0b\x0c\x1b[31m\x7f\uffff{CONTROLS}end"
DRAWN = f"bad\ud800{NASTY}"  # a lone surrogate too (the site log cannot store one yet)
TOML_NASTY = "bad\\u0000\\u0001\\u0008\\u000b\\u000c\\u001b[31m\\u007fend"

FAILING = f"""
from pathlib import Path
from dashsite import collector, MonitorMetric
MODE = Path(__file__).with_name("mode.txt")

@collector
def api():
    if MODE.read_text() == "down":
        raise RuntimeError({NASTY!r})
    return MonitorMetric(7, label={NASTY!r})
"""
INCIDENT = f"""+++
title = "DB {TOML_NASTY} failover"
start = 2026-11-27T20:10:00Z
end = 2026-11-27T20:13:00Z
[[updates]]
at = 2026-11-27T20:12:00Z
text = "note {TOML_NASTY}"
+++
Body {TOML_NASTY}.
"""
# (over before the outage the collector meets: each is its own feed entry, not one that
# explains the other)


def _xml_files(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*") if p.suffix in (".xml", ".svg"))


def test_every_feed_and_badge_parses_with_control_characters_everywhere(tmp_path: Path) -> None:
    write_project(tmp_path, {"alpha": {"dashboard.py": FAILING,
                                       "template.html": "<p>{{ api | render }}</p>"}},
                  config=f'title = "Ops {TOML_NASTY} site"\nexpected_every = "5m"\n')
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "db.md").write_text(INCIDENT)
    for n, mode in enumerate(["up", "down", "down", "up"]):
        (tmp_path / "dashboards" / "alpha" / "mode.txt").write_text(mode)
        moment = T0 + n * timedelta(minutes=5)
        build(tmp_path, version_id=moment.strftime("%Y%m%dT%H%M%SZ"), clock=fixed_clock(moment))
    site = tmp_path / "site"
    files = _xml_files(site)
    names = {p.relative_to(site).as_posix() for p in files}
    assert {"feed.xml", "badge.svg", "alpha/feed.xml", "alpha/badge.svg"} <= names, names
    for path in files:
        text = path.read_text(encoding="utf-8")
        ET.fromstring(text)  # raises on a forbidden character
        if path.suffix == ".xml":
            parsed = feedparser.parse(text)
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    feed = feedparser.parse((site / "feed.xml").read_text(encoding="utf-8"))
    assert feed.feed.title.startswith("Ops bad") and feed.feed.title.endswith("end site")
    titles = [e.title for e in feed.entries]
    assert any("DB bad\ufffd" in t for t in titles), titles
    summaries = " ".join(e.summary for e in feed.entries)
    assert "RuntimeError: bad" in summaries, summaries  # the error message, cleaned, is kept
    svg = ET.fromstring((site / "badge.svg").read_text(encoding="utf-8"))
    assert svg.attrib["aria-label"].startswith("Ops bad")


def _svgs(html: str) -> list[ET.Element]:
    found = re.findall(r"<svg\b.*?</svg>", html, re.S)
    assert found
    return [ET.fromstring(svg) for svg in found]


@pytest.mark.parametrize("drawn", [
    Sparkline([1, 2, 3], label=DRAWN),
    LineChart([(T0, 1), (T0 + timedelta(minutes=5), 2)], title=DRAWN, unit=DRAWN,
              annotations=[(T0, DRAWN)]),
    BarChart({DRAWN: {DRAWN: 3}}, title=DRAWN),
    StatusTimeline([(T0, "ok"), (T0 + timedelta(hours=1), "error")], title=DRAWN,
                   end=T0 + timedelta(hours=2)),
], ids=["sparkline", "line", "bar", "timeline"])
def test_drawn_svg_parses_with_control_characters(drawn) -> None:
    for inline_css in (False, True):  # inline: what mail turns into PNG with an XML parser
        for svg in _svgs(drawn.render(inline_css=inline_css)):
            assert "bad" in "".join(svg.itertext()) + str(svg.attrib)


@pytest.mark.parametrize("text", ["plain", "tab\tnew\nline\rcr", "é ü 漢字 🚀", ""])
def test_allowed_text_is_unchanged(text: str) -> None:
    assert xml_text(text) == text


def test_forbidden_characters_are_replaced_not_dropped() -> None:
    assert xml_text("a\x00b\ud800c\uffffd\x1f") == "a\ufffdb\ufffdc\ufffdd\ufffd"


def test_every_character_xml_forbids_and_only_those_is_replaced() -> None:
    """XML 1.0's Char production, checked over every code point: what is not a Char is
    replaced, everything else is kept as it is."""

    def allowed(code: int) -> bool:
        return (
            code in (0x9, 0xA, 0xD)
            or 0x20 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF
        )

    everything = "".join(map(chr, range(0x110000)))
    expected = "".join(c if allowed(ord(c)) else "\ufffd" for c in everything)
    assert xml_text(everything) == expected
