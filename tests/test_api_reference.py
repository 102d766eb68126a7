"""docs/api.md documents every public name, render type and filter, as the code has them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import dashsite
from dashsite.types.filters import FILTERS
from dashsite.types.renderables import RENDER_TYPES, is_builtin

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("api_reference", ROOT / "scripts" / "api_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_api_reference_is_current() -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert text == _generator().generate(), "run: .venv/bin/python scripts/api_reference.py"


def test_every_public_name_render_type_and_filter_has_an_entry_with_an_example() -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    sections = text.split("\n### ")
    entries = {part.split("`", 2)[1]: part for part in sections[1:]}
    names = {n for n in dashsite.__all__ if n != "__version__"} | {k for k in RENDER_TYPES if is_builtin(k)} | set(FILTERS)
    assert names <= set(entries), sorted(names - set(entries))
    for name in names:
        assert "Example:" in entries[name], name
    # A name without an example stops the generator with a line saying so.
    generator = _generator()
    del generator.EXAMPLES["MonitorKV"]
    with pytest.raises(SystemExit, match="no example for 'MonitorKV'"):
        generator.generate()


def test_exports_are_explicit() -> None:
    for name in ("build_site", "load_config", "BuildOptions", "DashsiteError", "ConfigError",
                 "Monitoring", "FileDelivery", "render_template", "MonitoringConfigError"):
        assert name in dashsite.__all__ and getattr(dashsite, name) is not None
    assert "dashsite" in sys.modules
