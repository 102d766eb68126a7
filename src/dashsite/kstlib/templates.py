"""Render a template string, or one value, outside a site (kstlib's renderer functions).

``render_template(source, context)`` is a whole render in one call;
``render_html(value)`` is the ``| render`` filter as a function;
``get_css_classes()`` is the ``<style>`` block the render types' classes need.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashsite.render.environment import create_environment
from dashsite.render.pages import compile_template
from dashsite.render.pages import render_compiled as _render
from dashsite.types.filters import render_filter as render_html
from dashsite.types.styles import STYLESHEET

__all__ = ["get_css_classes", "render_html", "render_template"]


def get_css_classes() -> str:
    """The ``<style>`` element for class-based HTML (``inline_css=False``).

    Put it once in the page's ``<head>``; mail clients drop it, so mail uses
    ``inline_css=True`` instead.
    """
    return f"<style>\n{STYLESHEET}</style>"


def render_template(
    source: str, context: Mapping[str, Any] | None = None, *, inline_css: bool = False
) -> str:
    """Render the Jinja2 template ``source`` with ``context``.

    The environment is dashsite's (autoescape, the render types and every
    filter). With ``inline_css=False`` (the default) :func:`get_css_classes`
    comes first, so class-based output is styled as it stands; with True it
    does not (as in kstlib: ask for inline styles with ``| render(inline_css=True)``).
    Errors are :class:`~dashsite.RenderError` with the template's line.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be str, got {type(source).__name__}")
    if context is not None and not isinstance(context, Mapping):
        raise TypeError(f"context must be dict or None, got {type(context).__name__}")
    environment = create_environment()
    template = compile_template(environment, source=source, path="<template>")
    html = _render(template, context or {})
    return html if inline_css else f"{get_css_classes()}\n{html}"
