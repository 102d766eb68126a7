"""``MonitoringService``: collect → render → deliver, the kstlib API continued."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Protocol

from dashsite.collection.collector import DEFAULT_TIMEOUT, Collector
from dashsite.collection.engine import (
    DEFAULT_CONCURRENCY,
    CollectionEngine,
    CollectorOutcome,
    run_coroutine,
)
from dashsite.core.errors import CollectorError
from dashsite.core.levels import StatusLevel, worst_level
from dashsite.render.environment import create_environment
from dashsite.render.pages import add_stylesheet, compile_template, render_compiled


class Transport(Protocol):
    """Anything with ``send(message)``, sync or async (e.g. :class:`SMTPTransport`)."""

    def send(self, message: EmailMessage) -> Any:
        """Send one message."""
        ...


@dataclass(frozen=True, slots=True)
class MonitoringResult:
    """One run's HTML, data, UTC timestamps, collector errors and outcomes."""

    html: str
    data: dict[str, Any]
    collected_at: datetime
    rendered_at: datetime
    errors: list[CollectorError] = field(default_factory=list)
    outcomes: dict[str, CollectorOutcome] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        """True exactly when no collector failed."""
        return not self.errors

    @property
    def status(self) -> StatusLevel:
        """The worst level in the data; at least ERROR if a collector failed."""
        return worst_level(self.data, failed=bool(self.errors))


class MonitoringService:
    """Collectors plus a template: ``run()`` collects concurrently and renders.

    ``inline_css=False`` adds the render types' stylesheet to the HTML;
    ``fail_fast=True`` raises the first :class:`CollectorError` and cancels the
    other collectors, ``False`` records failures and renders with ``None``.
    """

    def __init__(
        self,
        template: str,
        collectors: Mapping[str, Callable[[], Any]] | None = None,
        *,
        inline_css: bool = True,
        fail_fast: bool = True,
        timeout: float | None = DEFAULT_TIMEOUT,
        concurrency: int = DEFAULT_CONCURRENCY,
        executor: Executor | None = None,
    ) -> None:
        self._template_source = template
        self._inline_css = inline_css
        self.fail_fast = fail_fast
        self._engine = CollectionEngine(executor, concurrency, timeout)
        self._collectors: dict[str, Collector] = {}
        self._environment = create_environment()
        self._template = compile_template(self._environment, source=template, path="<template>")
        for name, func in (collectors or {}).items():
            self.add_collector(name, func)

    @property
    def template(self) -> str:
        """The template source."""
        return self._template_source

    @property
    def inline_css(self) -> bool:
        """Whether the HTML relies on inline styles only (no stylesheet added)."""
        return self._inline_css

    @property
    def collector_names(self) -> list[str]:
        """Names of the registered collectors, in registration order."""
        return list(self._collectors)

    def add_collector(
        self,
        name: str,
        collector: Callable[[], Any] | Collector,
        *,
        timeout: float | None = None,
        retries: int = 0,
    ) -> MonitoringService:
        """Register ``collector`` as template variable ``name``; chainable."""
        if isinstance(collector, Collector):
            spec = replace(collector, name=name)
        else:
            if not callable(collector):
                raise TypeError(f"collector {name!r} is not callable")
            spec = Collector(name, collector, timeout, retries)
        self._collectors[name] = spec
        return self

    def remove_collector(self, name: str) -> MonitoringService:
        """Unregister ``name``; ``KeyError`` if there is no such collector."""
        if name not in self._collectors:
            raise KeyError(name)
        del self._collectors[name]
        return self

    async def collect_outcomes(self) -> dict[str, CollectorOutcome]:
        """Run every collector; each one's value or error, duration and attempts."""
        outcomes = await self._engine.run(self._collectors.values(), fail_fast=self.fail_fast)
        return {outcome.name: outcome for outcome in outcomes}

    async def collect(self) -> tuple[dict[str, Any], list[CollectorError]]:
        """Run every collector concurrently → ``(data, errors)``."""
        outcomes = await self.collect_outcomes()
        return _split(outcomes)

    def render(self, data: Mapping[str, Any]) -> str:
        """Render the template with ``data``; template errors → ``RenderError``."""
        html = render_compiled(self._template, data)
        return html if self._inline_css else add_stylesheet(html)

    async def run(self) -> MonitoringResult:
        """Collect, then render: the whole pipeline short of delivery."""
        collected_at = datetime.now(UTC)
        outcomes = await self.collect_outcomes()
        data, errors = _split(outcomes)
        html = self.render(data)
        return MonitoringResult(html, data, collected_at, datetime.now(UTC), errors, outcomes)

    def run_sync(self) -> MonitoringResult:
        """:meth:`run` from sync code, also from inside a running event loop."""
        return run_coroutine(self.run)

    async def deliver(
        self,
        transport: Transport,
        message_builder: Callable[[str], EmailMessage],
    ) -> MonitoringResult:
        """Run, build a message from the HTML, and send it with ``transport``."""
        result = await self.run()
        message = message_builder(result.html)
        send = transport.send
        if inspect.iscoroutinefunction(send):
            await send(message)
        else:
            outcome = await asyncio.get_running_loop().run_in_executor(None, send, message)
            if inspect.isawaitable(outcome):
                await outcome
        return result


def _split(outcomes: Mapping[str, CollectorOutcome]) -> tuple[dict[str, Any], list[CollectorError]]:
    data = {name: outcome.value for name, outcome in outcomes.items()}
    errors = [outcome.error for outcome in outcomes.values() if outcome.error is not None]
    return data, errors
