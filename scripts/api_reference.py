"""Write docs/reference/api/: every public name, render type and filter, with signature and example.

    .venv/bin/python scripts/api_reference.py          # rewrite docs/reference/api/*.md
    .venv/bin/python scripts/api_reference.py --check  # exit 1 if a page is out of date

Signatures and descriptions come from the code (``inspect``, docstrings), so
they cannot drift; the examples are below, one per name (a test fails when a
public name has none, or when a page differs from what this writes). The
sections are grouped into pages by concept (``PAGES``), and a name in
backticks in a description links to its entry, on whichever page it is.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "reference" / "api"

SECTIONS: list[tuple[str, str, list[str]]] = [
    ("Collectors", "Functions that fetch data, and the engine that runs them.",
     ["collector", "Collector", "collect", "CollectorOutcome"]),
    ("Render types", "Values that render themselves as HTML (`{{ x }}` or `{{ x | render }}`); "
     "every one is also a template global. `RenderType` is their base: subclass it for your "
     "own (docs/plugins.md).", ["RenderType"]),  # the rest filled from the registry
    ("Levels", "", ["StatusLevel", "worst_level", "CellValue", "Renderable"]),
    ("MonitoringService and Monitoring", "kstlib's API: collect, render, deliver, in your own "
     "program.", ["MonitoringService", "MonitoringResult", "Monitoring"]),
    ("Delivery", "", ["FileDelivery", "FileDeliveryConfig", "MailDelivery", "MailDeliveryConfig",
                      "DeliveryResult", "DeliveryBackend", "Notifier"]),
    ("Rendering outside a site", "", ["render_template", "render_html", "get_css_classes",
                                      "create_environment", "STYLESHEET"]),
    ("kstlib's YAML dashboards", "", ["load_monitoring_config", "MonitoringConfig",
                                      "CollectorConfig", "discover_monitoring_configs",
                                      "create_services_from_directory"]),
    ("Building a site from Python", "", ["build_site", "BuildOptions", "BuildResult",
                                         "load_config", "SiteConfig"]),
    ("Stored data", "", ["to_jsonable", "from_jsonable"]),
    ("Errors", "Every error dashsite raises is a `DashsiteError`: `one_line()` gives "
     "`path[:line]: message — what to do`.",
     ["DashsiteError", "MonitoringError", "CollectorError", "RenderError", "ConfigError",
      "DashboardError", "SiteError", "DeliveryError", "DeliveryConfigError", "DeliveryIOError",
      "PublishError", "NothingPublished", "MonitoringConfigError",
      "MonitoringConfigFileNotFoundError", "MonitoringConfigFormatError",
      "MonitoringConfigCollectorError"]),
]

ERRORS_EXAMPLE = """\
try:
    build_site(load_config(Path(".")))
except DashsiteError as exc:
    print(exc.one_line())   # dashsite.toml: 'timeout' must be a number of seconds …"""

EXAMPLES: dict[str, str] = {
    "collector": """\
@collector
def disk() -> MonitorMetric: ...

@collector(name="api", timeout=5, retries=2, every="15m")
async def api_status() -> StatusCell: ...""",
    "Collector": 'spec = Collector("api", fetch, timeout=5, retries=2)',
    "collect": "outcomes = await collect([Collector(\"a\", fetch_a), Collector(\"b\", fetch_b)])",
    "CollectorOutcome": "for o in outcomes:\n    print(o.name, o.ok, o.duration, o.attempts)",
    "RenderType": """\
@dataclass(frozen=True, slots=True)
class Gauge(RenderType):                     # stored in data.json as value and max
    value: float
    max: float = 100.0

    def render(self, *, inline_css: bool = False) -> str:
        return f'<meter value="{self.value}" max="{self.max}"></meter>'""",
    "StatusCell": '{{ StatusCell("UP", StatusLevel.OK) }}          {# in a template #}',
    "MonitorTable": """\
table = MonitorTable(["Service", "State", "RSS"], title="Processes", formats={"RSS": "bytes"})
table.add_row(["api", StatusCell("UP"), 73_400_320])
table.row_count   # 1""",
    "MonitorKV": 'MonitorKV({"Host": "srv-01", "API": StatusCell("UP")}, title="Server")',
    "MonitorList": 'MonitorList(["backup done", "disk 81 %"], ordered=True)',
    "MonitorMetric": 'MonitorMetric(81.2, label="Disk used", unit="%", level=StatusLevel.WARNING)',
    "MonitorImage": 'MonitorImage(path="logo.png", alt="Logo", width=120)',
    "Sparkline": '{{ Sparkline(history | series("disk.value") + [disk.value]) }}',
    "LineChart": 'LineChart({"p50": history | series("api.p50")}, title="Latency", unit="ms")',
    "AreaChart": 'AreaChart(history | series("queue.depth"), title="Queue depth")',
    "BarChart": 'BarChart({"mon": 3, "tue": 5, "wed": 1}, title="Incidents per day")',
    "StatusTimeline": "StatusTimeline(history, title=\"Last 24 hours\")",
    "VegaLite": 'VegaLite({"mark": "bar", "data": {"values": rows}, "encoding": {...}})',
    "StatusLevel": "max(StatusLevel.OK, StatusLevel.CRITICAL)   # StatusLevel.CRITICAL",
    "worst_level": 'worst_level({"api": StatusCell("DOWN", StatusLevel.CRITICAL)})',
    "CellValue": 'row: list[CellValue] = ["api", 3, 99.5, True]',
    "Renderable": """\
class Gauge:                                 # any object with render() is renderable
    def render(self, *, inline_css: bool = False) -> str:
        return "<meter value=0.8></meter>\"""",
    "MonitoringService": """\
service = MonitoringService("<p>{{ disk | render }}</p>", {"disk": read_disk}, fail_fast=False)
result = service.run_sync()""",
    "MonitoringResult": "result.html, result.data, result.errors, result.success, result.status",
    "Monitoring": """\
mon = Monitoring(template="<p>{{ disk | render }}</p>", delivery=FileDelivery("reports"))

@mon.collector
def disk() -> MonitorMetric: ...

mon.run_sync()   # collect, render, write reports/monitoring_20261128_061500.html""",
    "FileDelivery": 'FileDelivery("reports", max_files=30)   # keeps its own newest 30 files',
    "FileDeliveryConfig": 'FileDelivery("reports").config.filename_template   # "{name}_{timestamp}.html"',
    "MailDelivery": """\
from dashsite.mail.message import SMTPTransport

delivery = MailDelivery.create(SMTPTransport("smtp.example.com", user="bot", password=secret),
                               sender="bot@example.com",
                               recipients=["team@example.com"], subject_template="Daily: {name}")""",
    "MailDeliveryConfig": 'MailDeliveryConfig("bot@example.com", ["team@example.com"], cc=["lead@example.com"])',
    "DeliveryResult": "outcome = await FileDelivery(\"reports\").deliver(result, \"daily\")\noutcome.path",
    "DeliveryBackend": """\
class Webhook:                               # anything with deliver(result, name)
    async def deliver(self, result, name) -> DeliveryResult: ...""",
    "Notifier": """\
notifier = Notifier(["https://hooks.example.com/${HOOK_TOKEN}", "ntfy://ops-alerts"],
                    state="notify-state.json")      # once per change of each name's status
notifier.notify_result("nightly", service.run_sync(), link="https://status.example.com/")""",
    "render_template": 'render_template("<p>{{ s | render }}</p>", {"s": StatusCell("UP")})',
    "render_html": 'render_html(StatusCell("UP"), inline_css=True)',
    "get_css_classes": "html = get_css_classes() + body",
    "create_environment": 'env = create_environment(["templates"])\nenv.get_template("page.html")',
    "STYLESHEET": 'Path("styles.css").write_text(STYLESHEET)',
    "load_monitoring_config": """\
config = load_monitoring_config("dashboards/service.monitor.yml")
config.to_service().run_sync()""",
    "MonitoringConfig": 'MonitoringConfig.from_dict({"template": "{{ v }}", "collectors": {"v": 1}})',
    "CollectorConfig": 'CollectorConfig("host", "env", env_var="HOSTNAME", default="?").to_collector()()',
    "discover_monitoring_configs": 'for name, config in discover_monitoring_configs("dashboards").items(): ...',
    "create_services_from_directory": 'services = create_services_from_directory("dashboards")',
    "build_site": """\
result = build_site(load_config(Path(".")), BuildOptions(only=frozenset({"api"})))
result.exit_code(strict=False)""",
    "BuildOptions": 'BuildOptions(version_id="ci-1234", strict=True, refresh=True)',
    "BuildResult": "print(result.to_json())",
    "load_config": 'config = load_config(Path("."), {"site_dir": "public"})',
    "SiteConfig": "config.site_path, config.dashboards_path, config.expected_every",
    "to_jsonable": 'to_jsonable(StatusCell("UP"))   # {"$kind": "StatusCell", "label": "UP", "level": "ok"}',
    "from_jsonable": 'from_jsonable({"$kind": "StatusCell", "label": "UP", "level": "ok"})',
    "series": '{{ history | series("disk.value") }}   {# one number per version, None where it failed #}',
    "render": "{{ table | render }}   {{ table | render(inline_css=True) }}",
    "number": "{{ 1234567 | number }} → 1,234,567   {{ 3.14159 | number(2) }} → 3.14",
    "percent": "{{ 0.953 | percent }} → 95%",
    "bytes": "{{ 73400320 | bytes }} → 70.0 MiB",
    "filesize": "{{ 73400320 | filesize }} → 70.0 MiB",
    "duration": "{{ 3725 | duration }} → 1h 2m",
    "timestamp": "{{ build.collected_at | timestamp }} → 2026-11-27 20:15 UTC",
    "isotime": "{{ build.collected_at | isotime }} → 2026-11-27T20:15:00Z",
    "markdown": "{{ notes | markdown }}   {# Markdown to HTML; raw HTML in it is escaped #}",
    "day_bars": "{# in a theme's status.html #}\n"
                "<ol class=\"day-bars day-bars-roving\">"
                "{{ timeline.bars | day_bars(\"history/\", timeline.touched(timeline.bars), root) }}"
                "</ol>",
    "version_rows": "{# in a theme's history.html #}\n"
                    "<tbody>{{ versions | version_rows(month) }}</tbody>",
}
EXAMPLES.update({name: ERRORS_EXAMPLE for name in SECTIONS[-1][2]})

# Page file name → (title, intro, the sections on it, by title).
PAGES: dict[str, tuple[str, str, list[str]]] = {
    "collectors.md": ("Collectors and levels", "Write collectors, run them, and grade what they "
                      "return.", ["Collectors", "Levels"]),
    "render-types.md": ("Render types and filters", "What a collector returns and a template "
                        "shows.", ["Render types", "Template filters"]),
    "library.md": ("The library", "kstlib's `MonitoringService` API: collect, render and deliver "
                   "in your own program, outside a site build.",
                   ["MonitoringService and Monitoring", "Delivery", "Rendering outside a site",
                    "kstlib's YAML dashboards"]),
    "site.md": ("Building a site", "Build a site from Python, and read its stored data back.",
                ["Building a site from Python", "Stored data"]),
    "errors.md": ("Errors", "", ["Errors"]),
}
FILTERS_SECTION = "Template filters"


_QUOTED = re.compile(r"(: |-> )'([^']*)'")


def _plain(signature: str) -> str:
    """Annotations without the quotes postponed evaluation gives them."""
    return re.sub(r" at 0x[0-9a-f]+", "", _QUOTED.sub(r"\1\2", signature))


def _signature(name: str, obj: Any) -> str | None:
    target = obj
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return None
    try:
        return _plain(f"{name}{inspect.signature(target)}")
    except (TypeError, ValueError):
        return None


STORAGE = frozenset({"to_stored", "from_stored", "field_names"})
"""``RenderType``'s storage methods: documented on it, not on each render type."""


def _members(obj: Any, name: str) -> list[tuple[str, str, str]]:
    """A class's public methods and properties: (name, signature, first line of doc)."""
    found = []
    for attribute, value in vars(obj).items():
        if attribute in STORAGE and name != "RenderType":
            continue
        if attribute.startswith("_") or not (inspect.isfunction(value) or isinstance(
                value, property | classmethod | staticmethod)):
            continue
        doc = (inspect.getdoc(value) or "").split("\n\n")[0].replace("\n", " ")
        if isinstance(value, property):
            found.append((attribute, f".{attribute}", doc))
            continue
        function = value.__func__ if isinstance(value, classmethod | staticmethod) else value
        try:
            signature = str(inspect.signature(function)).replace("(self, ", "(").replace(
                "(self)", "()").replace("(cls, ", "(").replace("(cls)", "()")
        except (TypeError, ValueError):
            signature = "(…)"
        found.append((attribute, _plain(f".{attribute}{signature}"), doc))
    return found


def _entry(name: str, obj: Any) -> list[str]:
    lines = [f"### `{name}` {{#{_anchor(name)}}}", ""]
    signature = _signature(name, obj)
    if signature:
        lines += ["```python", signature, "```", ""]
    doc = inspect.getdoc(obj) if not isinstance(obj, str | type(int | str)) else None
    if name == "CellValue":
        doc = "What a table cell holds besides a render type: `str | int | float | bool`."
    if name == "STYLESHEET":
        doc = "The CSS of the render types' classes (what `get_css_classes()` wraps in `<style>`)."
    if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__mro__[1] is not object:
        bases = ", ".join(f"`{b.__name__}`" for b in obj.__bases__)
        doc = f"{doc}\n\nA kind of {bases}."
    if doc:
        lines += [doc, ""]
    if inspect.isclass(obj) and not issubclass(obj, BaseException):
        members = _members(obj, name)
        if members:
            lines += [f"- `{sig}`" + (f": {text}" if text else "") for _, sig, text in members]
            lines.append("")
    example = EXAMPLES.get(name)
    if example is None:
        raise SystemExit(f"scripts/api_reference.py: no example for {name!r}: add one to EXAMPLES")
    language = "jinja" if example.lstrip().startswith("{{") else "python"
    lines += ["Example:", "", f"```{language}", example, "```", ""]
    return lines


def render_types() -> dict[str, type]:
    """The registry of render types, found in whichever dashsite module holds it."""
    import dashsite

    for name in dashsite.__all__:  # the package loads its modules on first use
        getattr(dashsite, name)
    found = {
        id(module.RENDER_TYPES): module.RENDER_TYPES
        for module in list(sys.modules.values())
        if getattr(module, "__name__", "").split(".")[0] == dashsite.__name__
        and isinstance(getattr(module, "RENDER_TYPES", None), dict)
    }
    if len(found) != 1:
        raise SystemExit("scripts/api_reference.py: cannot find dashsite's RENDER_TYPES")
    registry: dict[str, type] = next(iter(found.values()))
    # dashsite's own types (a dashboard's or a plugin's is named module:qualname)
    return {kind: cls for kind, cls in registry.items() if ":" not in kind}


def template_filters() -> dict[str, Any]:
    """The filters dashsite adds to Jinja2's, as every environment it creates has them."""
    from jinja2.filters import FILTERS as JINJA_FILTERS

    import dashsite

    filters = dashsite.create_environment().filters
    return {  # (Jinja's own escaping filters, wrapped for template.md, stay Jinja's)
        n: f
        for n, f in filters.items()
        if f is not JINJA_FILTERS.get(n) and not getattr(f, "wraps_jinja", False)
    }


def _sections() -> list[tuple[str, str, list[str]]]:
    import dashsite

    RENDER_TYPES = render_types()

    public = [n for n in dashsite.__all__ if n != "__version__"]
    sections = [(title, intro, list(names)) for title, intro, names in SECTIONS]
    sections[1][2].extend(RENDER_TYPES)  # dashsite's own (render_types() leaves plugins out)
    placed = {name for _, _, names in sections for name in names}
    missing = sorted(set(public) - placed)
    if missing:
        raise SystemExit(f"scripts/api_reference.py: place {missing} in a section")
    return sections


def _anchor(name: str) -> str:
    """The entry's id: the name itself (ids are case-sensitive: `collector`, `Collector`)."""
    return name


_TICKED = re.compile(r"(?<![\[`])(``?)([A-Za-z_][A-Za-z0-9_]*)\1(?![`\]])")
"""A name in code quotes, single (Markdown) or double (reST, as docstrings write them)."""
_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`~?\.?([\w.]+)`")
"""A Sphinx role in a docstring, shown as its name in code quotes."""


def _link_names(lines: list[str], where: dict[str, str], page: str, own: str) -> list[str]:
    """Link each public name in backticks, outside code blocks, to its entry."""
    out, fenced = [], False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        if fenced or line.startswith(("### ", "```")):
            out.append(line)
            continue

        def link(found: re.Match[str]) -> str:
            name = found.group(2)
            target = where.get(name)
            if target is None or name == own:
                return found.group(0)
            file = "" if target == page else target
            return f"[`{name}`]({file}#{_anchor(name)})"

        out.append(_TICKED.sub(link, _ROLE.sub(lambda m: f"`{m.group(1)}`", line)))
    return out


def generate_pages() -> dict[Path, str]:
    """Each page of docs/reference/api/, keyed by its path."""
    import dashsite

    FILTERS = template_filters()

    sections = {title: (intro, names) for title, intro, names in _sections()}
    sections[FILTERS_SECTION] = (
        "Registered on every environment dashsite creates; use them as `{{ value | name }}`.",
        [],
    )
    on_pages = {title for _, _, titles in PAGES.values() for title in titles}
    if set(sections) - on_pages:
        raise SystemExit(f"scripts/api_reference.py: put {sorted(set(sections) - on_pages)} on a page")
    where: dict[str, str] = {}
    for file, (_, _, titles) in PAGES.items():
        for title in titles:
            for name in sections[title][1]:
                where[name] = file
    pages: dict[Path, str] = {}
    index = [
        "# Python API",
        "",
        GENERATED,
        "",
        "Everything here is importable from `dashsite` (`from dashsite import …`); render",
        "types and filters are also available in every template.",
        "",
    ]
    for file, (page_title, page_intro, titles) in PAGES.items():
        out = [f"# {page_title}", "", GENERATED, ""] + ([page_intro, ""] if page_intro else [])
        index += [f"## [{page_title}]({file})", ""] + ([page_intro, ""] if page_intro else [])
        for title in titles:
            intro, names = sections[title]
            out += [f"## {title}", ""] + ([intro, ""] if intro else [])
            if title == FILTERS_SECTION:
                entries = [_filter_entry(name, function) for name, function in FILTERS.items()]
                index.append(", ".join(f"[`{n}`]({file}#filter-{n})" for n in FILTERS))
            else:
                entries = [_entry(name, getattr(dashsite, name)) for name in names]
                index.append(", ".join(f"[`{n}`]({file}#{_anchor(n)})" for n in names))
            index.append("")
            for name, lines in zip(names or list(FILTERS), entries, strict=True):
                own = name if title != FILTERS_SECTION else ""
                out += _link_names(lines, where, file, own)
        pages[OUT / file] = "\n".join(out).rstrip() + "\n"
    pages[OUT / "index.md"] = "\n".join(index).rstrip() + "\n"
    return pages


def _filter_entry(name: str, function: Any) -> list[str]:
    signature = _plain(f"{name}{inspect.signature(function)}")
    out = [f"### `{name}` {{#filter-{name}}}", "", "```python", signature, "```", ""]
    doc = inspect.getdoc(function)
    if doc:
        out += [doc, ""]
    if name not in EXAMPLES:
        raise SystemExit(f"scripts/api_reference.py: no example for filter {name!r}")
    return [*out, "Example:", "", "```jinja", EXAMPLES[name], "```", ""]


GENERATED = (
    "<!-- Generated by scripts/api_reference.py from the code and its examples; "
    "a test keeps it current. -->"
)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--check", action="store_true", help="exit 1 if a page is stale")
    args = options.parse_args()
    pages = generate_pages()
    if args.check:
        stale = [p for p, text in pages.items()
                 if not p.is_file() or p.read_text(encoding="utf-8") != text]
        for page in stale:
            print(f"{page.relative_to(ROOT)} is out of date: run scripts/api_reference.py",
                  file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for page in set(OUT.glob("*.md")) - set(pages):
        page.unlink()  # a page no longer written
    for page, text in pages.items():
        page.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
