# Written for dashsite (not kstlib code): see scripts/kstlib_suite/run.
"""Run kstlib's monitoring tests against dashsite: `kstlib.monitoring.*` is an alias of `dashsite`.

A name dashsite lacks imports as a placeholder, so only the tests that use it fail
(not their whole file)."""
import sys
import types

import pytest

import dashsite
import dashsite.render.environment  # registers every render type


class _Missing:
    def __init__(self, name):
        self.name = name

    def __call__(self, *a, **k):
        raise AttributeError(f"dashsite has no {self.name}")

    def __getattr__(self, item):
        raise AttributeError(f"dashsite has no {self.name}.{item}")


class _Alias(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return getattr(dashsite, name)
        except AttributeError:
            return _Missing(name)


for sub in ["", ".cell", ".table", ".types", ".exceptions", ".renderer", "._styles",
            ".monitoring", ".delivery", ".service", ".config", ".kv", ".list", ".metric",
            ".image"]:
    sys.modules[f"kstlib.monitoring{sub}"] = _Alias(f"kstlib.monitoring{sub}")
sys.modules.setdefault("kstlib", _Alias("kstlib"))
for other in ("kstlib.config", "kstlib.config.exceptions"):
    sys.modules[other] = _Alias(other)  # kstlib-wide, not monitoring: placeholders

from kstlib.monitoring.cell import StatusCell  # noqa: E402
from kstlib.monitoring.types import StatusLevel  # noqa: E402


@pytest.fixture()
def ok_cell():
    return StatusCell("UP", StatusLevel.OK)


@pytest.fixture()
def warning_cell():
    return StatusCell("DEGRADED", StatusLevel.WARNING)


@pytest.fixture()
def error_cell():
    return StatusCell("DOWN", StatusLevel.ERROR)


@pytest.fixture()
def critical_cell():
    return StatusCell("FAILURE", StatusLevel.CRITICAL)
