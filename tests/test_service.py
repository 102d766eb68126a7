from __future__ import annotations

import asyncio
from email.message import EmailMessage

import pytest

from dashsite import (
    CollectorError,
    MonitoringService,
    RenderError,
    StatusCell,
    StatusLevel,
)

from htmltree import parse


def test_kstlib_documented_examples_hold() -> None:
    html = MonitoringService(template="<p>{{ msg }}</p>").add_collector(
        "msg", lambda: "Hello"
    ).run_sync().html
    assert html == "<p>Hello</p>"
    service = MonitoringService("{{ status | render }}",
                                {"status": lambda: StatusCell("UP", StatusLevel.OK)})
    result = service.run_sync()
    assert "status-ok" in parse(result.html).find("span").classes
    assert result.success and result.errors == []
    assert result.collected_at <= result.rendered_at
    assert result.collected_at.utcoffset().total_seconds() == 0
    assert result.rendered_at.utcoffset().total_seconds() == 0


def test_properties_and_chainable_registration() -> None:
    service = MonitoringService("x", inline_css=False, fail_fast=False)
    assert service.template == "x" and service.inline_css is False
    assert service.add_collector("a", lambda: 1).add_collector("b", lambda: 2) is service
    assert service.collector_names == ["a", "b"]
    assert service.remove_collector("a").collector_names == ["b"]
    with pytest.raises(KeyError):
        service.remove_collector("missing")


def test_fail_fast_false_records_errors_and_renders_none() -> None:
    def broken() -> None:
        raise RuntimeError("db down")

    service = MonitoringService("{{ a }}|{{ b is none }}", {"a": lambda: 1, "b": broken},
                                fail_fast=False)
    result = service.run_sync()
    assert result.html == "1|True"
    assert not result.success
    assert [e.name for e in result.errors] == ["b"]
    assert result.status is StatusLevel.ERROR
    assert result.outcomes["a"].ok and not result.outcomes["b"].ok


def test_fail_fast_true_raises_collector_error() -> None:
    def broken() -> None:
        raise RuntimeError("db down")

    with pytest.raises(CollectorError, match="db down") as raised:
        MonitoringService("{{ b }}", {"b": broken}).run_sync()
    import traceback

    assert isinstance(raised.value.__cause__, RuntimeError)  # as kstlib's "raise … from"
    shown = "".join(traceback.format_exception(raised.value))
    assert 'raise RuntimeError("db down")' in shown  # the collector's own line


def test_collect_returns_data_and_errors() -> None:
    service = MonitoringService("", {"x": lambda: 5}, fail_fast=False)
    data, errors = asyncio.run(service.collect())
    assert data == {"x": 5} and errors == []


def test_template_errors_become_render_errors_with_line() -> None:
    service = MonitoringService("line one\n{{ missing_var }}")
    with pytest.raises(RenderError) as info:
        service.render({})
    assert info.value.line == 2
    assert "missing_var" in str(info.value)
    with pytest.raises(RenderError) as syntax:
        MonitoringService("ok\n{% if %}")
    assert syntax.value.line == 2
    with pytest.raises(RenderError, match="unknown filter 'rendr'"):
        MonitoringService("{{ x | rendr }}")


def test_stylesheet_goes_inside_head_of_a_whole_document() -> None:
    doc = "<!DOCTYPE html><html><head><title>t</title></head><body>{{ s | render }}</body></html>"
    html = MonitoringService(doc, {"s": lambda: StatusCell("UP")}, inline_css=False).run_sync().html
    assert html.startswith("<!DOCTYPE html>")
    root = parse(html)
    style = root.find("head").find("style")
    assert ".status-ok" in style.text()
    fragment = MonitoringService("<p>x</p>", inline_css=False).run_sync().html
    assert parse(fragment).find("style") is not None
    assert "<style>" not in MonitoringService("<p>x</p>").run_sync().html


def test_run_sync_inside_a_running_loop() -> None:
    async def inside() -> str:
        return MonitoringService("{{ v }}", {"v": lambda: "nested"}).run_sync().html

    assert asyncio.run(inside()) == "nested"


class SyncTransport:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


class AsyncTransport(SyncTransport):
    async def send(self, message: EmailMessage) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.sent.append(message)


def build(html: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "Dashboard"
    message.set_content(html, subtype="html")
    return message


@pytest.mark.parametrize("transport_type", [SyncTransport, AsyncTransport])
def test_deliver_with_sync_and_async_transports(transport_type: type[SyncTransport]) -> None:
    transport = transport_type()
    service = MonitoringService("<b>{{ v }}</b>", {"v": lambda: "hi"})
    result = asyncio.run(service.deliver(transport, build))
    assert result.html == "<b>hi</b>"
    assert len(transport.sent) == 1
    assert transport.sent[0].get_content().strip() == "<b>hi</b>"


def test_the_callers_context_variables_reach_sync_and_async_collectors() -> None:
    """A request id or a tracing span set by the caller, as kstlib's collectors see it."""
    import contextvars

    request = contextvars.ContextVar("request", default="unset")

    async def seen_async() -> str:
        return request.get()

    service = MonitoringService("{{ a }} {{ b }}", {"a": lambda: request.get(), "b": seen_async})
    token = request.set("req-42")
    try:
        assert service.run_sync().html == "req-42 req-42"
        assert asyncio.run(service.run()).html == "req-42 req-42"
    finally:
        request.reset(token)
