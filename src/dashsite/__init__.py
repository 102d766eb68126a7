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
    from .build import BuildOptions, BuildResult, build_site
    from .charts import AreaChart, BarChart, LineChart, StatusTimeline
    from .collection import Collector, CollectorOutcome, collect, collector
    from .config import SiteConfig, load_config
    from .delivery import (
        DeliveryBackend,
        DeliveryConfigError,
        DeliveryIOError,
        DeliveryResult,
        FileDelivery,
        FileDeliveryConfig,
        MailDelivery,
        MailDeliveryConfig,
    )
    from .environment import create_environment
    from .errors import (
        CollectorError,
        ConfigError,
        DashboardError,
        DashsiteError,
        DeliveryError,
        MonitoringError,
        NothingPublished,
        PublishError,
        RenderError,
        SiteError,
    )
    from .image import MonitorImage
    from .levels import StatusLevel, worst_level
    from .monitor_files import (
        CollectorConfig,
        MonitoringConfig,
        MonitoringConfigCollectorError,
        MonitoringConfigError,
        MonitoringConfigFileNotFoundError,
        MonitoringConfigFormatError,
        create_services_from_directory,
        discover_monitoring_configs,
        load_monitoring_config,
    )
    from .monitoring import Monitoring
    from .renderables import (
        CellValue,
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
    from .templates import get_css_classes, render_html, render_template
    from .vegalite import VegaLite


__version__ = "0.1.0"

__all__ = [
    "STYLESHEET",
    "AreaChart",
    "BarChart",
    "BuildOptions",
    "BuildResult",
    "CellValue",
    "Collector",
    "CollectorConfig",
    "CollectorError",
    "CollectorOutcome",
    "ConfigError",
    "DashboardError",
    "DashsiteError",
    "DeliveryBackend",
    "DeliveryConfigError",
    "DeliveryError",
    "DeliveryIOError",
    "DeliveryResult",
    "FileDelivery",
    "FileDeliveryConfig",
    "LineChart",
    "MailDelivery",
    "MailDeliveryConfig",
    "MonitorImage",
    "MonitorKV",
    "MonitorList",
    "MonitorMetric",
    "MonitorTable",
    "Monitoring",
    "MonitoringConfig",
    "MonitoringConfigCollectorError",
    "MonitoringConfigError",
    "MonitoringConfigFileNotFoundError",
    "MonitoringConfigFormatError",
    "MonitoringError",
    "MonitoringResult",
    "MonitoringService",
    "NothingPublished",
    "Notifier",
    "PublishError",
    "RenderError",
    "Renderable",
    "SiteConfig",
    "SiteError",
    "Sparkline",
    "StatusCell",
    "StatusLevel",
    "StatusTimeline",
    "VegaLite",
    "__version__",
    "build_site",
    "collect",
    "collector",
    "create_environment",
    "create_services_from_directory",
    "discover_monitoring_configs",
    "from_jsonable",
    "get_css_classes",
    "load_config",
    "load_monitoring_config",
    "render_html",
    "render_template",
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
    "BuildOptions": ".build",
    "BuildResult": ".build",
    "build_site": ".build",
    "SiteConfig": ".config",
    "load_config": ".config",
    "DeliveryBackend": ".delivery",
    "DeliveryConfigError": ".delivery",
    "DeliveryIOError": ".delivery",
    "DeliveryResult": ".delivery",
    "FileDelivery": ".delivery",
    "FileDeliveryConfig": ".delivery",
    "MailDelivery": ".delivery",
    "MailDeliveryConfig": ".delivery",
    "MonitoringError": ".errors",
    "NothingPublished": ".errors",
    "PublishError": ".errors",
    "SiteError": ".errors",
    "CollectorConfig": ".monitor_files",
    "MonitoringConfig": ".monitor_files",
    "MonitoringConfigCollectorError": ".monitor_files",
    "MonitoringConfigError": ".monitor_files",
    "MonitoringConfigFileNotFoundError": ".monitor_files",
    "MonitoringConfigFormatError": ".monitor_files",
    "create_services_from_directory": ".monitor_files",
    "discover_monitoring_configs": ".monitor_files",
    "load_monitoring_config": ".monitor_files",
    "Monitoring": ".monitoring",
    "Notifier": ".notify",
    "CellValue": ".renderables",
    "get_css_classes": ".templates",
    "render_html": ".templates",
    "render_template": ".templates",
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
