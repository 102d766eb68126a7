"""Extension points: a user's render type, and a plugin package's type, publisher and output.

The plugin package is made in a tmp folder with a ``*.dist-info/entry_points.txt``
on ``sys.path``, which ``importlib.metadata`` finds like an installed package's.
"""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashsite.core import plugins
from dashsite.types.renderables import RENDER_TYPES
from dashsite.types.serialize import UnavailableType, from_jsonable, to_jsonable
from projects import build, cli, fixed_clock, simple, tree_digest, vdir, write_project

from htmltree import parse

T0 = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)

GAUGE_MODULE = """
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashsite import RenderType, collector

TITLE = "Disk"


@dataclass(frozen=True, slots=True)  # looks its module up in sys.modules (postponed annotations)
class Gauge(RenderType):
    value: float
    max: float = 100.0

    def render(self, *, inline_css: bool = False) -> str:
        return f'<meter class="gauge" value="{self.value}" max="{self.max}">{self.value}</meter>'


@collector
def disk():
    return Gauge(float((Path(__file__).parent / "value.txt").read_text()), max=10.0)
"""
GAUGE_TEMPLATE = """
<div id="now">{{ disk }}</div>
<ol id="before">{% for h in history %}<li>{{ h.data.disk | render }}</li>{% endfor %}</ol>
"""


@pytest.fixture(autouse=True)
def forget_dashboard_types() -> Iterator[None]:
    """The types these tests' dashboards define leave the registry with them."""
    before = set(RENDER_TYPES)
    yield
    for kind in set(RENDER_TYPES) - before:
        del RENDER_TYPES[kind]


def _gauge_project(root: Path, value: str) -> Path:
    write_project(root, {"disk": {"dashboard.py": GAUGE_MODULE, "template.html": GAUGE_TEMPLATE,
                                  "value.txt": value}})
    return root


def _page(root: Path) -> object:
    return parse((root / "site" / "disk" / "index.html").read_text(encoding="utf-8"))


def test_a_dashboards_own_render_type_renders_is_stored_and_read_back(tmp_path: Path) -> None:
    _gauge_project(tmp_path, "3")
    first = build(tmp_path, version_id="v1", clock=fixed_clock(T0))
    assert first.exit_code(strict=True) == 0, first.to_json()
    meter = _page(tmp_path).find("div", id="now").find("meter")
    assert (meter.attrs["value"], meter.attrs["max"]) == ("3.0", "10.0")

    stored = json.loads((vdir(tmp_path / "site", "disk", "v1") / "data.json").read_text())
    assert stored["data"]["disk"] == {
        "$kind": "_dashsite_dashboards.disk.dashboard:Gauge", "value": 3.0, "max": 10.0}

    (tmp_path / "dashboards" / "disk" / "value.txt").write_text("7")
    second = build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(hours=1)))
    assert second.exit_code(strict=True) == 0, second.to_json()
    page = _page(tmp_path)
    assert page.find("div", id="now").find("meter").attrs["value"] == "7.0"
    # v1's Gauge, read back from its data.json, renders as a Gauge again.
    before = [m.attrs["value"] for m in page.find("ol", id="before").find_all("meter")]
    assert "3.0" in before


def test_a_stored_type_that_is_gone_shows_as_a_box_of_its_fields(tmp_path: Path) -> None:
    _gauge_project(tmp_path, "3")
    assert build(tmp_path, version_id="v1", clock=fixed_clock(T0)).exit_code(strict=True) == 0
    data_file = vdir(tmp_path / "site", "disk", "v1") / "data.json"
    stored = json.loads(data_file.read_text())
    stored["data"]["disk"]["$kind"] = "_dashsite_dashboards.disk.dashboard:OldGauge"  # renamed
    data_file.write_text(json.dumps(stored))
    _gauge_project(tmp_path, "7")  # (new data: a version, whose history holds v1)

    second = build(tmp_path, version_id="v2", clock=fixed_clock(T0 + timedelta(hours=1)))
    assert second.exit_code(strict=True) == 0, second.to_json()
    box = _page(tmp_path).find("ol", id="before").find("div", class_="monitor-unavailable")
    assert box.attrs["data-kind"] == "_dashsite_dashboards.disk.dashboard:OldGauge"
    cells = {th.text(): td.text() for th, td in zip(box.find_all("th"), box.find_all("td"),
                                                     strict=True)}
    assert cells == {"value": "3", "max": "10"}


def test_a_type_that_is_gone_stores_back_what_was_read() -> None:
    stored = {"$kind": "nowhere.module:Gauge", "value": 3.5, "max": 10,
              "inner": {"$kind": "StatusCell", "label": "UP", "level": "ok"}}
    value = from_jsonable(stored)
    assert isinstance(value, UnavailableType) and value.kind == "nowhere.module:Gauge"
    assert to_jsonable(value) == stored
    # dashsite's own kinds stay strict: an unknown one is refused, not boxed.
    with pytest.raises(ValueError, match="unknown stored kind"):
        from_jsonable({"$kind": "NoSuchKind"})


# -- a plugin package: one render type, one publisher, one site output --------------

PLUGIN = """
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from dashsite import RenderType
from dashsite.publish.publishers import Published


@dataclass(frozen=True, slots=True)
class Thermo(RenderType):
    celsius: float

    def render(self, *, inline_css: bool = False) -> str:
        return f'<span class="thermo" data-celsius="{self.celsius}">{self.celsius} °C</span>'


@dataclass(frozen=True, slots=True)
class DirPublisher:
    folder: str

    usage = "dir://path"

    @classmethod
    def from_target(cls, text, settings):
        return cls(text.removeprefix("dir://"))

    def __str__(self) -> str:
        return f"dir://{self.folder}"

    def publish(self, site, root, options, say):
        target = root / self.folder
        shutil.copytree(site, target, dirs_exist_ok=True)
        count = sum(1 for p in target.rglob("*") if p.is_file())
        return Published((), f"{self}: {count} files")

    def pull(self, site, root, options):
        raise NotImplementedError


class StatusApi:
    def write(self, site, writer) -> None:
        statuses = {
            record.slug: record.latest.status.slug if record.latest else None
            for record in site.manifest.dashboards.values()
        }
        writer.write("api/status.json", json.dumps({"title": site.title, "dashboards": statuses}))


STATUS_API = StatusApi()
"""

ENTRY_POINTS = """
[dashsite.render_types]
thermo = acme_dash:Thermo

[dashsite.publishers]
dir = acme_dash:DirPublisher

[dashsite.outputs]
status-api = acme_dash:STATUS_API
"""


def _distribution(where: Path, name: str, entry_points: str, modules: dict[str, str]) -> None:
    """A package as pip would leave it: its modules and a ``*.dist-info`` beside them."""
    info = where / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points).lstrip())
    for module, text in modules.items():
        (where / f"{module}.py").write_text(textwrap.dedent(text).lstrip())


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Path]:
    """A folder on ``sys.path`` that packages are "installed" into; forgotten afterwards."""
    where = tmp_path / "site-packages"
    where.mkdir()
    sys.path.insert(0, str(where))
    importlib.invalidate_caches()
    plugins.load_group.cache_clear()
    modules = set(sys.modules)
    try:
        yield where
    finally:
        sys.path.remove(str(where))
        for name in set(sys.modules) - modules:
            if getattr(sys.modules[name], "__file__", "") and str(where) in sys.modules[name].__file__:
                del sys.modules[name]
        for kind in [k for k in RENDER_TYPES if k.startswith("acme_dash:")]:
            del RENDER_TYPES[kind]
        plugins.load_group.cache_clear()
        importlib.invalidate_caches()


THERMO_DASHBOARD = """
from pathlib import Path

from acme_dash import Thermo

from dashsite import collector


@collector
def temp():
    return Thermo(float((Path(__file__).parent / "value.txt").read_text()))
"""
THERMO_TEMPLATE = """
<div id="now">{{ temp }}</div>
<div id="global">{{ Thermo(30.5) }}</div>
<ol id="before">{% for h in history %}<li>{{ h.data.temp | render }}</li>{% endfor %}</ol>
"""


@pytest.fixture
def acme(installed: Path, tmp_path: Path) -> Path:
    """The acme-dash plugin installed, and a project whose dashboard uses its Thermo."""
    _distribution(installed, "acme-dash", ENTRY_POINTS, {"acme_dash": PLUGIN})
    project = tmp_path / "project"
    write_project(project, {"heat": {"dashboard.py": THERMO_DASHBOARD,
                                      "template.html": THERMO_TEMPLATE, "value.txt": "21.5"}})
    return project


def test_a_plugins_render_type_is_a_template_global_and_round_trips(acme: Path) -> None:
    assert build(acme, version_id="v1", clock=fixed_clock(T0)).exit_code(strict=True) == 0
    stored = json.loads((vdir(acme / "site", "heat", "v1") / "data.json").read_text())
    assert stored["data"]["temp"] == {"$kind": "acme_dash:Thermo", "celsius": 21.5}

    (acme / "dashboards" / "heat" / "value.txt").write_text("23")
    second = build(acme, version_id="v2", clock=fixed_clock(T0 + timedelta(hours=1)))
    assert second.exit_code(strict=True) == 0, second.to_json()
    page = parse((acme / "site" / "heat" / "index.html").read_text(encoding="utf-8"))
    assert page.find("div", id="now").find("span", class_="thermo").attrs["data-celsius"] == "23.0"
    assert page.find("div", id="global").find("span", class_="thermo").attrs["data-celsius"] == "30.5"
    before = page.find("ol", id="before").find_all("span", class_="thermo")
    assert "21.5" in [span.attrs["data-celsius"] for span in before]  # v1's, read back


def test_a_plugins_output_is_written_by_every_build(acme: Path) -> None:
    assert build(acme, version_id="v1", clock=fixed_clock(T0)).exit_code(strict=True) == 0
    api = json.loads((acme / "site" / "api" / "status.json").read_text())
    assert api == {"title": "Dashboards", "dashboards": {"heat": "ok"}}
    # dashsite's own outputs, registered the same way, are written too.
    assert (acme / "site" / "feed.xml").is_file() and (acme / "site" / "badge.svg").is_file()


def test_a_plugins_publisher_is_found_by_its_scheme(acme: Path) -> None:
    assert cli(acme, "build", "--version-id", "v1").returncode == 0
    done = cli(acme, "publish", "dir://public")
    assert done.returncode == 0, done.stderr
    assert tree_digest(acme / "public") == tree_digest(acme / "site")
    assert "dir://public:" in done.stderr
    unknown = cli(acme, "publish", "ftp://somewhere")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == ("dashsite: unknown publish target 'ftp://somewhere' — "
                                      "use s3://bucket/prefix, gh-pages or dir://path")


BROKEN_ENTRY_POINTS = """
[dashsite.render_types]
gauge = broken_dash:Gauge
"""


def test_a_broken_plugin_is_one_line_naming_its_entry_point(installed: Path, tmp_path: Path) -> None:
    _distribution(installed, "broken-dash", BROKEN_ENTRY_POINTS,
                  {"broken_dash": "import no_such_module_here\n"})
    project = write_project(tmp_path / "project", {"alpha": simple()})
    done = cli(project, "build")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "dashsite: dashsite.render_types entry point 'gauge = broken_dash:Gauge' (from broken-dash) "
        "cannot be loaded: ModuleNotFoundError: No module named 'no_such_module_here' "
        "— fix or uninstall that package"
    ]


def test_compare_finds_rows_in_any_type_that_names_its_rows_field() -> None:
    from dataclasses import dataclass, field

    from dashsite.status.compare import changes
    from dashsite.types.renderables import RenderType, kind_of

    @dataclass(frozen=True)
    class Inventory(RenderType):
        items: list[list[str]] = field(default_factory=list)
        rows_field = "items"

        def render(self, *, inline_css: bool = False) -> str:
            return "<ul></ul>"

    try:
        before = to_jsonable({"hosts": Inventory([["db-1", "up"]])})
        after = to_jsonable({"hosts": Inventory([["db-1", "up"], ["db-2", "up"]])})
        assert before["hosts"]["$kind"] == kind_of(Inventory)
        found = changes(before, after, {}, {})
        assert [c.text for c in found] == ["hosts: 1 row added (db-2)"]
    finally:
        del RENDER_TYPES[kind_of(Inventory)]


def test_a_type_that_cannot_say_what_it_stores_is_refused_naming_where() -> None:
    from dashsite.types.renderables import RenderType, kind_of

    class Plain(RenderType):  # not a dataclass, no stored_fields
        def render(self, *, inline_css: bool = False) -> str:
            return ""

    class Wrong(RenderType):
        stored_fields = ("missing",)

        def render(self, *, inline_css: bool = False) -> str:
            return ""

    try:
        with pytest.raises(TypeError, match=r"^x\['p'\]: Plain is not a dataclass: declare"):
            to_jsonable({"p": Plain()}, "x")
        with pytest.raises(TypeError, match=r"^x\['w'\]: Wrong cannot store itself"):
            to_jsonable({"w": Wrong()}, "x")
    finally:
        del RENDER_TYPES[kind_of(Plain)], RENDER_TYPES[kind_of(Wrong)]


ROGUE = """
from dataclasses import dataclass

from dashsite import RenderType


@dataclass(frozen=True, slots=True)
class StatusLevel(RenderType):  # named like dashsite's own globals
    OK: str = "HIJACKED"

    def render(self, *, inline_css: bool = False) -> str:
        return "HIJACKED"


@dataclass(frozen=True, slots=True)
class status_word(RenderType):  # noqa: N801
    x: str = ""

    def render(self, *, inline_css: bool = False) -> str:
        return "HIJACKED"


class Overwrite:
    def __init__(self, path):
        self.path = path

    def write(self, site, writer) -> None:
        writer.write(self.path, "PLUGIN WROTE THIS")


class Crash:
    def write(self, site, writer) -> None:
        raise KeyError("plugin bug")


SNAPSHOT = Overwrite("alpha/index.html")
INDEX = Overwrite("index.html")
MINE = Overwrite("rogue/out.txt")
CRASH = Crash()


class Sneaky:
    def write(self, site, writer) -> None:
        refused = []
        for path in ("./index.html", "./alpha/index.html", "x/../index.html", "ALPHA/a.txt",
                     "Index.html", "a\\\\..\\\\index.html"):
            try:
                writer.write(path, "PLUGIN WROTE THIS")
            except Exception as exc:
                refused.append(path)
        for path in ("./alpha", "./assets", ".", "", "history"):
            try:
                writer.remove(path)
            except Exception:
                refused.append(path)
        writer.write("rogue/refused.txt", "\\n".join(refused))


SNEAKY = Sneaky()
"""
ROGUE_ENTRY_POINTS = """
[dashsite.render_types]
statuslevel = rogue_dash:StatusLevel
statusword = rogue_dash:status_word

[dashsite.outputs]
a-snapshot = rogue_dash:SNAPSHOT
b-index = rogue_dash:INDEX
c-crash = rogue_dash:CRASH
d-mine = rogue_dash:MINE
e-sneaky = rogue_dash:SNEAKY
"""


def test_a_plugin_hides_no_global_and_its_outputs_write_only_their_own_files(
    installed: Path, tmp_path: Path
) -> None:
    """A plugin's type named StatusLevel or status_word leaves dashsite's own in place; an
    output may not write over a dashboard's pages (immutable versions) or the build's files,
    and one that fails is one problem naming it: the build still commits its manifest."""
    _distribution(installed, "rogue-dash", ROGUE_ENTRY_POINTS, {"rogue_dash": ROGUE})
    project = write_project(tmp_path / "project", {"alpha": {
        "dashboard.py": "from dashsite import collector\n@collector\ndef v():\n    return 1\n",
        "template.html": "<p id='w'>{{ status_word(StatusLevel.OK) }}</p>"}})
    result = build(project, version_id="v1", clock=fixed_clock(T0))
    said = sorted(p.message for p in result.problems)
    assert [p.split(":", 1)[0] for p in said] == ["site output 'a-snapshot' may not write 'alpha/index.html'",
                                                  "site output 'b-index' may not write 'index.html'",
                                                  "site output 'c-crash' failed"], said
    assert "dashboard 'alpha' owns it" in said[0] and "the build owns it" in said[1]
    assert "KeyError: 'plugin bug'" in said[2]
    site = project / "site"
    page = parse((site / "alpha" / "index.html").read_text())
    assert page.find("p", id="w").text() == "Operational"
    assert "PLUGIN WROTE THIS" not in (site / "index.html").read_text()
    assert (site / "rogue" / "out.txt").read_text() == "PLUGIN WROTE THIS"  # its own folder
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["dashboards"][0]["latest"]["id"] == "v1"  # committed all the same
    assert "HIJACKED" not in (site / "alpha" / "index.html").read_text()
    # however the path is spelt, and remove() too (it took alpha/, every version of it)
    assert (site / "rogue" / "refused.txt").read_text().split("\n") == [
        "./index.html", "./alpha/index.html", "x/../index.html", "ALPHA/a.txt", "Index.html",
        "a\\..\\index.html", "./alpha", "./assets", ".", "", "history"]
    assert (site / "alpha").is_dir() and (site / "assets").is_dir()
    assert not (site / "Index.html").exists()


def test_a_plugin_that_exits_at_import_is_one_line_not_a_silent_success(
    installed: Path, tmp_path: Path
) -> None:
    _distribution(installed, "exit-dash", BROKEN_ENTRY_POINTS.replace("broken_dash", "exit_dash"),
                  {"exit_dash": "import sys\nsys.exit(0)\n"})
    project = write_project(tmp_path / "project", {"alpha": simple()})
    done = cli(project, "build")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "dashsite: dashsite.render_types entry point 'gauge = exit_dash:Gauge' (from exit-dash) "
        "cannot be loaded: SystemExit: 0 — fix or uninstall that package"
    ]
