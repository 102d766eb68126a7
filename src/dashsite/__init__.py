"""dashsite: monitoring dashboards as a versioned static site.

The library half: collectors, render types, the Jinja2 environment and
``MonitoringService`` (the kstlib.monitoring API, continued).

The package is layered like the pipeline; a module imports only from layers below
its own (``make lint`` checks it with import-linter, ``tests/test_layers.py`` finds
cycles of any kind). Bottom to top:

- ``core``: errors, levels, names, configuration, the reporter, plugin groups.
  Everything needs them; they need nothing.
- ``types``: the render types. Pure values → HTML; below the store because a
  version's ``data.json`` holds them and the store reads them back.
- ``store``: every file of a site's state: layout, documents, atomic writes.
- ``collection``: find dashboards, run their collectors. Returns plain data, writes nothing.
- ``render``: the Jinja2 environment; templates plus collected data → HTML.
- ``status``: status over time, computed from the store's log, flowing one way
  to the views. Above render because incident pages render Markdown.
- ``site``: the build as named stages, and the pages and files it outputs.
- ``preview`` | ``publish`` | ``mail``: what works on a site, side by
  side and independent of each other.
- ``notify``: status changes to people, after the site is published; above mail,
  whose SMTP transport it uses.
- ``kstlib``: kstlib.monitoring's API and ``*.monitor.yml`` files, on top, so the
  layers below never depend on a compatibility concern; its YAML files reach
  discovery through the ``dashsite.dashboard_files`` entry point group.
- ``commands`` (one module per command) and ``cli`` (parsing and errors only).

Names are imported on first use (PEP 562), so the command line does not load
Jinja, the charts and the collectors to print ``--help``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dashsite.core.version import VERSION

if TYPE_CHECKING:
    from dashsite.collection.collector import Collector, collector
    from dashsite.collection.engine import CollectorOutcome, collect
    from dashsite.core.config import SiteConfig, load_config
    from dashsite.core.errors import (
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
    from dashsite.core.levels import StatusLevel, worst_level
    from dashsite.kstlib.delivery import (
        DeliveryBackend,
        DeliveryConfigError,
        DeliveryIOError,
        DeliveryResult,
        FileDelivery,
        FileDeliveryConfig,
        MailDelivery,
        MailDeliveryConfig,
    )
    from dashsite.kstlib.monitor_files import (
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
    from dashsite.kstlib.monitoring import Monitoring
    from dashsite.kstlib.service import MonitoringResult, MonitoringService
    from dashsite.kstlib.templates import get_css_classes, render_html, render_template
    from dashsite.render.environment import create_environment
    from dashsite.site.build import BuildOptions, build_site
    from dashsite.site.report import BuildResult
    from dashsite.types.charts import AreaChart, BarChart, LineChart, StatusTimeline
    from dashsite.types.image import MonitorImage
    from dashsite.types.renderables import (
        CellValue,
        MonitorKV,
        MonitorList,
        MonitorMetric,
        MonitorTable,
        Renderable,
        RenderType,
        StatusCell,
    )
    from dashsite.types.serialize import from_jsonable, to_jsonable
    from dashsite.types.sparkline import Sparkline
    from dashsite.types.styles import STYLESHEET
    from dashsite.types.vegalite import VegaLite


__version__ = VERSION

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
    "RenderType",
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
    "AreaChart": ".types.charts",
    "BarChart": ".types.charts",
    "LineChart": ".types.charts",
    "StatusTimeline": ".types.charts",
    "Collector": ".collection.collector",
    "CollectorOutcome": ".collection.engine",
    "collect": ".collection.engine",
    "collector": ".collection.collector",
    "create_environment": ".render.environment",
    "CollectorError": ".core.errors",
    "ConfigError": ".core.errors",
    "DashboardError": ".core.errors",
    "DashsiteError": ".core.errors",
    "DeliveryError": ".core.errors",
    "RenderError": ".core.errors",
    "MonitorImage": ".types.image",
    "StatusLevel": ".core.levels",
    "worst_level": ".core.levels",
    "MonitorKV": ".types.renderables",
    "MonitorList": ".types.renderables",
    "MonitorMetric": ".types.renderables",
    "MonitorTable": ".types.renderables",
    "Renderable": ".types.renderables",
    "RenderType": ".types.renderables",
    "StatusCell": ".types.renderables",
    "from_jsonable": ".types.serialize",
    "to_jsonable": ".types.serialize",
    "MonitoringResult": ".kstlib.service",
    "MonitoringService": ".kstlib.service",
    "Sparkline": ".types.sparkline",
    "STYLESHEET": ".types.styles",
    "VegaLite": ".types.vegalite",
    "BuildOptions": ".site.build",
    "BuildResult": ".site.report",
    "build_site": ".site.build",
    "SiteConfig": ".core.config",
    "load_config": ".core.config",
    "DeliveryBackend": ".kstlib.delivery",
    "DeliveryConfigError": ".kstlib.delivery",
    "DeliveryIOError": ".kstlib.delivery",
    "DeliveryResult": ".kstlib.delivery",
    "FileDelivery": ".kstlib.delivery",
    "FileDeliveryConfig": ".kstlib.delivery",
    "MailDelivery": ".kstlib.delivery",
    "MailDeliveryConfig": ".kstlib.delivery",
    "MonitoringError": ".core.errors",
    "NothingPublished": ".core.errors",
    "PublishError": ".core.errors",
    "SiteError": ".core.errors",
    "CollectorConfig": ".kstlib.monitor_files",
    "MonitoringConfig": ".kstlib.monitor_files",
    "MonitoringConfigCollectorError": ".kstlib.monitor_files",
    "MonitoringConfigError": ".kstlib.monitor_files",
    "MonitoringConfigFileNotFoundError": ".kstlib.monitor_files",
    "MonitoringConfigFormatError": ".kstlib.monitor_files",
    "create_services_from_directory": ".kstlib.monitor_files",
    "discover_monitoring_configs": ".kstlib.monitor_files",
    "load_monitoring_config": ".kstlib.monitor_files",
    "Monitoring": ".kstlib.monitoring",
    "CellValue": ".types.renderables",
    "get_css_classes": ".kstlib.templates",
    "render_html": ".kstlib.templates",
    "render_template": ".kstlib.templates",
    "Notifier": ".notify.notifier",
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
