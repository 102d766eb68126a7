"""dashsite: monitoring dashboards as a versioned static site.

The library half: collectors, render types, the Jinja2 environment and
``MonitoringService`` (the kstlib.monitoring API, continued).
"""

from __future__ import annotations

from .charts import AreaChart, BarChart, LineChart, StatusTimeline
from .collect import Collector, CollectorOutcome, collect, collector
from .environment import create_environment
from .errors import CollectorError, ConfigError, DashboardError, DashsiteError, RenderError
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
