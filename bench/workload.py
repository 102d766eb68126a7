"""Generated workloads for the benchmarks: N dashboards of the same shape, three ways.

Each dashboard has three collectors (a status cell, a 20-row table, a
number) and a template showing them. The same content is also written as a
bare Jinja2 job and as Markdown pages for mkdocs, so all three do the same work.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

MODULE = '''
from dashsite import MonitorTable, StatusCell, StatusLevel, collector

TITLE = "Dashboard {n}"


@collector
def status():
    up = {n} % 7
    return StatusCell("UP" if up else "SLOW", StatusLevel.OK if up else StatusLevel.WARNING)


@collector
def table():
    t = MonitorTable(["Service", "Latency", "Errors"], title="Services")
    for row in range(20):
        t.add_row([f"svc-{{row}}", f"{{(row * 37 + {n}) % 500}} ms", (row * {n}) % 11])
    return t


@collector
async def requests():
    import os

    # A scheduled build's data moves: the run number (DASHSITE_BENCH_RUN) shifts it, for every
    # dashboard or only the one DASHSITE_BENCH_ONLY names (a quiet build).
    only = os.environ.get("DASHSITE_BENCH_ONLY")
    run = int(os.environ.get("DASHSITE_BENCH_RUN", "0"))
    return ({n} * 13 + (run if only in (None, "d{n:04d}") else 0)) % 1000
'''

TEMPLATE = """<h2>Status</h2>
{{ status | render }}
<p>Requests per second: <strong>{{ requests }}</strong></p>
{{ table | render }}
"""


def rows(n: int) -> list[list[object]]:
    """The table the collectors return, for the bare loop and mkdocs."""
    return [[f"svc-{row}", f"{(row * 37 + n) % 500} ms", (row * n) % 11] for row in range(20)]


def write_dashsite_project(root: Path, count: int, own_templates: bool = False) -> Path:
    """``root/dashboards/d0000…`` with ``count`` dashboards; with ``own_templates``, each
    template's text is its own (as a real site's are), else they are all alike."""
    for n in range(count):
        folder = root / "dashboards" / f"d{n:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "dashboard.py").write_text(MODULE.format(n=n))
        own = f"<p class=\"lead\">Dashboard {n}'s own words.</p>\n" if own_templates else ""
        (folder / "template.html").write_text(own + TEMPLATE)
    return root


def write_mkdocs_project(root: Path, count: int) -> Path:
    """The same pages as Markdown for ``mkdocs build``."""
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    (root / "mkdocs.yml").write_text("site_name: Bench\nuse_directory_urls: true\n")
    (docs / "index.md").write_text("# Bench\n")
    for n in range(count):
        lines = [f"# Dashboard {n}", "", "## Status", "",
                 "**UP**" if n % 7 else "**SLOW**", "",
                 f"Requests per second: **{n * 13 % 1000}**", "", "### Services", "",
                 "| Service | Latency | Errors |", "|---|---|---|"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in rows(n)]
        (docs / f"d{n:04d}.md").write_text("\n".join(lines) + "\n")
    return root


BARE_LOOP = textwrap.dedent('''
    """The floor: the same pages with bare Jinja2, rendered and written in a loop."""
    import sys, html
    from pathlib import Path
    from jinja2 import Environment
    from markupsafe import Markup

    sys.path.insert(0, sys.argv[3])
    from workload import rows

    def render(value):
        return Markup(value) if isinstance(value, Markup) else html.escape(str(value))

    env = Environment(autoescape=True)
    env.filters["render"] = lambda v: Markup(v)
    page = env.from_string(
        "<!DOCTYPE html><html><head><title>{{ title }}</title></head><body><main>"
        "<h2>Status</h2><span class='status-badge'>{{ status }}</span>"
        "<p>Requests per second: <strong>{{ requests }}</strong></p>"
        "<table><caption>Services</caption><thead><tr><th>Service</th><th>Latency</th>"
        "<th>Errors</th></tr></thead><tbody>{% for r in rows %}<tr>{% for c in r %}"
        "<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></main></body></html>"
    )
    out = Path(sys.argv[1])
    for n in range(int(sys.argv[2])):
        folder = out / f"d{n:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.html").write_text(page.render(
            title=f"Dashboard {n}", status="UP" if n % 7 else "SLOW",
            requests=n * 13 % 1000, rows=rows(n)))
''')


CHART_COLLECTOR = '''

@collector
def latency():
    return [(({n} * 7 + i * 13) % 97) + (i % 50) for i in range(500)]
'''

CHART_TEMPLATE = """
{{ LineChart(latency, title="Latency", unit="ms", thresholds={"warning": 120}) | render }}
{{ AreaChart({"p50": latency[:250], "p99": latency[250:]}, title="Spread") | render }}
"""


def write_chart_project(root: Path, count: int, charts: bool) -> Path:
    """``count`` dashboards whose template draws two 500-point charts (or, without, shows
    the same collected list's length)."""
    for n in range(count):
        folder = root / "dashboards" / f"d{n:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "dashboard.py").write_text(MODULE.format(n=n) + CHART_COLLECTOR.format(n=n))
        extra = CHART_TEMPLATE if charts else "<p>{{ latency | length }} points</p>"
        (folder / "template.html").write_text(TEMPLATE + extra)
    return root
