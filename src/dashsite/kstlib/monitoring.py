"""``Monitoring``: kstlib's decorator API over :class:`~dashsite.MonitoringService`.

::

    mon = Monitoring(template="<p>{{ disk | render }}</p>", delivery=FileDelivery("reports"))

    @mon.collector
    def disk():
        return MonitorMetric(81.2, label="Disk", unit="%")

    result = mon.run_sync()   # collect, render, deliver

Same names and meanings as kstlib: ``template`` or ``template_file`` (one of
them), ``inline_css`` (default True: mail-ready HTML), ``fail_fast``
(default False here, as in kstlib's ``Monitoring``), ``delivery``, ``name``.
Beyond kstlib: ``@mon.collector(name=…, timeout=…, retries=…)`` and the
engine's ``timeout``/``concurrency``/``executor``. kstlib's ``from_config()``
reads kstlib's own configuration file and has no counterpart: a
``*.monitor.yml`` file is a dashboard here (:mod:`dashsite.monitor_files`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, TypeVar, overload

from dashsite.collection.collector import (
    COLLECTOR_ATTRIBUTE,
    DEFAULT_BACKOFF,
    DEFAULT_TIMEOUT,
    Collector,
    collector,
)
from dashsite.collection.engine import DEFAULT_CONCURRENCY, run_coroutine
from dashsite.kstlib.delivery import DeliveryBackend, DeliveryResult, FileDelivery
from dashsite.kstlib.service import MonitoringResult, MonitoringService

F = TypeVar("F", bound=Callable[..., Any])


class Monitoring:
    """Collectors registered by decorator, one template, an optional delivery."""

    def __init__(
        self,
        *,
        template: str | None = None,
        template_file: str | os.PathLike[str] | None = None,
        inline_css: bool = True,
        fail_fast: bool = False,
        delivery: DeliveryBackend | None = None,
        name: str = "monitoring",
        timeout: float | None = DEFAULT_TIMEOUT,
        concurrency: int = DEFAULT_CONCURRENCY,
        executor: Executor | None = None,
    ) -> None:
        if template is None and template_file is None:
            raise ValueError("Either 'template' or 'template_file' is required")
        if template is not None and template_file is not None:
            raise ValueError("Cannot specify both 'template' and 'template_file'")
        if template_file is not None:
            path = Path(template_file)
            if not path.is_file():
                raise FileNotFoundError(f"Template not found: {path}")
            template = path.read_text(encoding="utf-8")
        assert template is not None
        self._service = MonitoringService(
            template,
            inline_css=inline_css,
            fail_fast=fail_fast,
            timeout=timeout,
            concurrency=concurrency,
            executor=executor,
        )
        self._delivery = delivery
        self._name = name
        self._inline_css = inline_css
        self._fail_fast = fail_fast
        self.last_delivery: DeliveryResult | None = None
        """What the latest delivery did (None before one)."""

    @property
    def name(self) -> str:
        """The dashboard's name (file names and mail subjects use it)."""
        return self._name

    @property
    def template(self) -> str:
        """The template source."""
        return self._service.template

    @property
    def collector_names(self) -> list[str]:
        """Registered collectors, in registration order."""
        return self._service.collector_names

    @property
    def service(self) -> MonitoringService:
        """The :class:`MonitoringService` doing the work."""
        return self._service

    @overload
    def collector(self, func: F, /) -> F: ...

    @overload
    def collector(
        self,
        /,
        *,
        name: str | None = None,
        timeout: float | None = None,
        retries: int = 0,
        backoff: float = DEFAULT_BACKOFF,
        every: str | float | None = None,
    ) -> Callable[[F], F]: ...

    def collector(
        self,
        func: F | None = None,
        /,
        *,
        name: str | None = None,
        timeout: float | None = None,
        retries: int = 0,
        backoff: float = DEFAULT_BACKOFF,
        every: str | float | None = None,
    ) -> F | Callable[[F], F]:
        """Register a function as a collector; its name is the template variable.

        ``@mon.collector`` or ``@mon.collector(name="api", timeout=5, retries=2)``: the
        same options as :func:`dashsite.collector`, which marks the function; the
        function is returned unchanged.
        """
        mark = collector(name=name, timeout=timeout, retries=retries, backoff=backoff, every=every)

        def register(target: F) -> F:
            spec: Collector = getattr(mark(target), COLLECTOR_ATTRIBUTE)
            self._service.add_collector(spec.name, spec)
            return target

        return register(func) if func is not None else register

    def add_collector(self, name: str, func: Callable[[], Any] | Collector) -> Monitoring:
        """Register ``func`` under ``name``; chainable."""
        self._service.add_collector(name, func)
        return self

    async def run(self, *, deliver: bool = True) -> MonitoringResult:
        """Collect, render, and (with a delivery and ``deliver``) deliver."""
        result = await self._service.run()
        if deliver and self._delivery is not None:
            await self._deliver(result)
        return result

    async def _deliver(self, result: MonitoringResult) -> DeliveryResult:
        if self._delivery is None:
            raise RuntimeError("No delivery backend configured")
        self.last_delivery = await self._delivery.deliver(result, self._name)
        return self.last_delivery

    @staticmethod
    def _build_delivery(config: dict[str, Any]) -> DeliveryBackend:
        """A delivery from kstlib's ``delivery:`` settings (``type: file`` only here)."""
        kind = config.get("type", "file")
        if kind == "file":
            return FileDelivery(
                config.get("output_dir", "./reports"), max_files=config.get("max_files", 100)
            )
        if kind == "mail":
            raise ValueError(
                "mail delivery needs kstlib's mail transports: use 'dashsite mail', or "
                "MonitoringService.deliver(transport, builder)"
            )
        raise ValueError(f"Unknown delivery type: {kind}")

    def run_sync(self, *, deliver: bool = True) -> MonitoringResult:
        """:meth:`run` from sync code, also from inside a running event loop."""
        return run_coroutine(lambda: self.run(deliver=deliver))
