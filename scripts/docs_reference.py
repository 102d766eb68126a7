"""Write the generated parts of the docs site from the code, or check that they are current.

    python scripts/docs_reference.py          # rewrite every generated part
    python scripts/docs_reference.py --check  # exit 1, naming the page, if one is stale

Generated parts sit between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``
markers in a hand-written page, so the prose around them stays editable:

* ``docs/reference/cli.md`` (``cli``): every command and option, read from the
  argparse parser of the ``dashsite`` console script (found through
  ``pyproject.toml``'s ``[project.scripts]``, so it follows the module if it moves);
* ``docs/reference/settings.md`` (``settings``): every setting, from the declared
  options beside ``dashsite.SiteConfig``;
* ``docs/reference/site-layout.md`` (``layout``): the site tree, from the store's
  layout module (the one place that builds a site path);
* ``docs/explanation/architecture.md`` (``layers``): the layers, from the import-linter
  contract in ``pyproject.toml`` and each subpackage's docstring;
* ``docs/reference/schemas/*.schema.json``: copies of the JSON Schemas the package ships
  (``src/dashsite/store/schemas/``) and every built site publishes;
* ``docs/reference/api/*.md``: the Python API, written whole by
  ``scripts/api_reference.py``.

``docs/explanation/performance.md`` (``bench``) is rewritten from
``bench/results.json`` only when that file exists (``make bench`` writes it on
this machine); it is never checked, as the figures belong to one machine.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CLI_PAGE = DOCS / "reference" / "cli.md"
SETTINGS_PAGE = DOCS / "reference" / "settings.md"
PERFORMANCE_PAGE = DOCS / "explanation" / "performance.md"
LAYOUT_PAGE = DOCS / "reference" / "site-layout.md"
ARCHITECTURE_PAGE = DOCS / "explanation" / "architecture.md"
BENCH_RESULTS = ROOT / "bench" / "results.json"


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def console_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dashsite`` command, wherever its module lives."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    target = project["project"]["scripts"]["dashsite"]  # "dashsite.cli:entry"
    module = importlib.import_module(target.split(":")[0])
    made: argparse.ArgumentParser = module.parser()
    return made


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _option_row(action: argparse.Action) -> str:
    if action.option_strings:
        names = ", ".join(f"`{o}`" for o in sorted(action.option_strings, key=len, reverse=True))
        if action.nargs != 0:
            metavar = action.metavar or (
                "{" + ",".join(action.choices) + "}" if action.choices else action.dest.upper()
            )
            names += f" `{metavar}`" + (" …" if action.nargs in ("+", "*") else "")
    else:
        names = f"`{action.metavar or action.dest.upper()}`"
    text = (action.help or "").replace("%(default)s", str(action.default))
    return f"| {_escape(names)} | {_escape(text)} |"


def _usage(parser: argparse.ArgumentParser) -> str:
    usage = parser.format_usage().removeprefix("usage: ").strip()
    return re.sub(r"\s+", " ", usage)


def cli_reference() -> str:
    """The commands and their options, as the parser declares them."""
    main = console_parser()
    subparsers = next(a for a in main._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in subparsers._choices_actions}
    out = ["## Options of every command", "", "```text", _usage(main), "```", ""]
    out += ["| option | what |", "| --- | --- |"]
    out += [
        _option_row(a)
        for a in main._actions
        if a.option_strings and a.help != argparse.SUPPRESS and a is not subparsers
    ]
    out.append("")
    for name, sub in sorted(subparsers.choices.items()):
        summary = (helps.get(name) or "").strip()
        out += [f"## `dashsite {name}`", "", summary[:1].upper() + summary[1:] + ".", ""]
        out += ["```text", _usage(sub), "```", ""]
        rows = [
            _option_row(a)
            for a in sub._actions
            if a.help != argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)
        ]
        if rows:
            out += ["| argument | what |", "| --- | --- |", *rows, ""]
    return "\n".join(out)


def settings_reference() -> str:
    """The settings table, from the options declared beside ``SiteConfig``."""
    import dashsite

    home = importlib.import_module(dashsite.SiteConfig.__module__)
    candidates = [home, *(m for n, m in sorted(sys.modules.items()) if n.startswith("dashsite."))]
    for module in candidates:
        make = getattr(module, "options_table", None)
        if callable(make):
            table: str = make()
            return table
    raise SystemExit("scripts/docs_reference.py: no options_table() beside dashsite.SiteConfig")


def _figure(value: object, unit: object) -> str:
    if not isinstance(value, int | float):
        return ""
    return f"{value:.3g} {unit}".strip()


def bench_reference(results: dict[str, object]) -> str:
    """The table of the figures ``make bench`` wrote (``bench/results.json``), with its machine."""
    rows = results.get("rows")
    assert isinstance(rows, list)
    marks = {True: "✔", False: "✘", None: "~"}
    out = [
        f"One run of `make bench` on {results.get('machine', 'an unnamed machine')}:",
        "",
        "| figure | dashsite | baseline | goal | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        baseline = _figure(row.get("baseline"), row.get("unit", ""))
        if baseline and row.get("baseline_name"):
            baseline = f"{row['baseline_name']} {baseline}"
        goal = f"{row.get('goal', '')} {marks.get(row.get('met'), '')}".strip()
        cells = [row.get("figure", ""), _figure(row.get("dashsite"), row.get("unit", "")),
                 baseline, goal, row.get("note", "")]
        out.append("| " + " | ".join(_escape(str(c)) for c in cells) + " |")
    return "\n".join(out) + "\n"


def layout_reference() -> str:
    """The site tree, as the store's layout module builds it."""
    from dashsite.store import layout

    return "```\n" + layout.tree() + "\n```\n"


def layers_reference() -> str:
    """The layers, top first, as ``make lint`` checks them: one row per subpackage."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [
        c for c in project["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    rows = ["| layer | subpackage | what it holds |", "| --- | --- | --- |"]
    count = len(contract["layers"])
    for number, layer in enumerate(contract["layers"]):
        for name in (part.strip() for part in layer.split("|")):
            module = importlib.import_module(f"dashsite.{name}")
            doc = (module.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
            rows.append(f"| {count - number} | `dashsite.{name}` | {_escape(doc)} |")
    return "\n".join(rows) + "\n"


def replace_block(text: str, name: str, content: str, page: Path) -> str:
    """``text`` with the part between ``name``'s markers replaced by ``content``."""
    pattern = re.compile(rf"(<!-- {name}:start -->\n)(.*?)(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{page.relative_to(ROOT)}: no <!-- {name}:start/end --> markers")
    body = content if content.endswith("\n") else content + "\n"
    return pattern.sub(lambda m: m.group(1) + body + m.group(3), text, count=1)


def expected_pages() -> dict[Path, str]:
    """Every generated page, as the code would write it now."""
    blocks: list[tuple[Path, str, Callable[[], str]]] = [
        (CLI_PAGE, "cli", cli_reference),
        (SETTINGS_PAGE, "settings", settings_reference),
        (LAYOUT_PAGE, "layout", layout_reference),
        (ARCHITECTURE_PAGE, "layers", layers_reference),
    ]
    pages: dict[Path, str] = {}
    for page, name, make in blocks:
        current = pages.get(page) or page.read_text(encoding="utf-8")
        pages[page] = replace_block(current, name, make(), page)
    from dashsite.store.documents import SCHEMAS, schema_text

    for name in SCHEMAS:  # the docs publish the package's schemas as they are
        pages[DOCS / "reference" / "schemas" / f"{name}.schema.json"] = schema_text(name)
    api = _load_script("api_reference")
    pages.update(api.generate_pages())
    return pages


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--check", action="store_true", help="exit 1 if a page is stale")
    args = options.parse_args()
    pages = expected_pages()
    if args.check:
        stale = [
            page
            for page, text in pages.items()
            if not page.is_file() or page.read_text(encoding="utf-8") != text
        ]
        api_dir = DOCS / "reference" / "api"
        stale += sorted(set(api_dir.glob("*.md")) - set(pages))  # a page no section writes
        for page in stale:
            print(
                f"{page.relative_to(ROOT)}: out of date — run: python scripts/docs_reference.py",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for page, text in pages.items():
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(text, encoding="utf-8")
    if BENCH_RESULTS.is_file():
        results = json.loads(BENCH_RESULTS.read_text(encoding="utf-8"))
        text = PERFORMANCE_PAGE.read_text(encoding="utf-8")
        PERFORMANCE_PAGE.write_text(
            replace_block(text, "bench", bench_reference(results), PERFORMANCE_PAGE),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
