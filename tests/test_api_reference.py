"""docs/reference/api/ documents every public name, render type and filter, as the code has them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import dashsite

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("api_reference", ROOT / "scripts" / "api_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RENDER_TYPES = _generator().render_types()
FILTERS = _generator().template_filters()


API = ROOT / "docs" / "reference" / "api"


def test_the_api_reference_is_current() -> None:
    pages = _generator().generate_pages()
    assert set(pages) == set(API.glob("*.md")), "run: .venv/bin/python scripts/api_reference.py"
    for page, text in pages.items():
        assert page.read_text(encoding="utf-8") == text, f"{page.name}: run scripts/api_reference.py"


def test_every_public_name_render_type_and_filter_has_an_entry_with_an_example() -> None:
    entries = {}
    for page in sorted(API.glob("*.md")):
        for part in page.read_text(encoding="utf-8").split("\n### ")[1:]:
            entries[part.split("`", 2)[1]] = (page.name, part)
    names = {n for n in dashsite.__all__ if n != "__version__"} | set(RENDER_TYPES) | set(FILTERS)
    assert names <= set(entries), sorted(names - set(entries))
    for name in names:
        assert "Example:" in entries[name][1], name
    index = (API / "index.md").read_text(encoding="utf-8")
    for name in names:  # the index links every name to its entry
        page, _ = entries[name]
        anchor = f"filter-{name}" if name in FILTERS and name not in dashsite.__all__ else name
        assert f"[`{name}`]({page}#{anchor})" in index, name
    # A name without an example stops the generator with a line saying so.
    generator = _generator()
    del generator.EXAMPLES["MonitorKV"]
    with pytest.raises(SystemExit, match="no example for 'MonitorKV'"):
        generator.generate_pages()


def test_names_in_descriptions_link_to_their_entries() -> None:
    """A public name in backticks in a description is a link to its entry, across pages."""
    errors = (API / "errors.md").read_text(encoding="utf-8")
    assert "A kind of [`DashsiteError`](#DashsiteError)" in errors
    collectors = (API / "collectors.md").read_text(encoding="utf-8")
    assert "### `Collector` {#Collector}" in collectors and "### `collector` {#collector}" in collectors


def test_exports_are_explicit() -> None:
    for name in ("build_site", "load_config", "BuildOptions", "DashsiteError", "ConfigError",
                 "Monitoring", "FileDelivery", "render_template", "MonitoringConfigError"):
        assert name in dashsite.__all__ and getattr(dashsite, name) is not None
    assert "dashsite" in sys.modules
