"""dashsite: monitoring dashboards as a versioned static site.

The library half: collectors, render types, the Jinja2 environment and
``MonitoringService`` (the kstlib.monitoring API, continued).

Names are imported on first use (PEP 562), so the command line does not load
Jinja, the charts and the collectors to print ``--help``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .charts import AreaChart, BarChart, LineChart, StatusTimeline
    from .collection import Collector, CollectorOutcome, collect, collector
    from .environment import create_environment
    from .errors import (
        CollectorError,
        ConfigError,
        DashboardError,
        DashsiteError,
        DeliveryError,
        RenderError,
    )
    from .image import MonitorImage
    from .levels import StatusLevel, worst_level
    from .renderables import (
        MonitorKV,
        MonitorList,
        MonitorMetric,
        MonitorTable,
        Renderable,
        StatusCell,
    )
    from .serialize import from_jsonable, to_jsonable
    from .service import MonitoringResult, MonitoringService
    from .sparkline import Sparkline
    from .styles import STYLESHEET
    from .vegalite import VegaLite


__version__ = "0.1.0"

__all__ = [
    "STYLESHEET",
    "AreaChart",
    "BarChart",
    "Collector",
    "CollectorError",
    "CollectorOutcome",
    "ConfigError",
    "DashboardError",
    "DashsiteError",
    "DeliveryError",
    "LineChart",
    "MonitorImage",
    "MonitorKV",
    "MonitorList",
    "MonitorMetric",
    "MonitorTable",
    "MonitoringResult",
    "MonitoringService",
    "RenderError",
    "Renderable",
    "Sparkline",
    "StatusCell",
    "StatusLevel",
    "StatusTimeline",
    "VegaLite",
    "__version__",
    "collect",
    "collector",
    "create_environment",
    "from_jsonable",
    "to_jsonable",
    "worst_level",
]

_EXPORTS = {
    "AreaChart": ".charts",
    "BarChart": ".charts",
    "LineChart": ".charts",
    "StatusTimeline": ".charts",
    "Collector": ".collection",
    "CollectorOutcome": ".collection",
    "collect": ".collection",
    "collector": ".collection",
    "create_environment": ".environment",
    "CollectorError": ".errors",
    "ConfigError": ".errors",
    "DashboardError": ".errors",
    "DashsiteError": ".errors",
    "DeliveryError": ".errors",
    "RenderError": ".errors",
    "MonitorImage": ".image",
    "StatusLevel": ".levels",
    "worst_level": ".levels",
    "MonitorKV": ".renderables",
    "MonitorList": ".renderables",
    "MonitorMetric": ".renderables",
    "MonitorTable": ".renderables",
    "Renderable": ".renderables",
    "StatusCell": ".renderables",
    "from_jsonable": ".serialize",
    "to_jsonable": ".serialize",
    "MonitoringResult": ".service",
    "MonitoringService": ".service",
    "Sparkline": ".sparkline",
    "STYLESHEET": ".styles",
    "VegaLite": ".vegalite",
}
"""Public name → the module that defines it, imported on first use (PEP 562)."""


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dashsite' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # once
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
