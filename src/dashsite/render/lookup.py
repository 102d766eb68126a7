"""How a template looks an item up: ``mapping[key]`` is the mapping's item or undefined.

Jinja2 falls back to an attribute when an item is missing, so a collector named
``update`` looked up in ``build.last_good`` found ``dict.update`` and the theme failed
on it. Both of dashsite's environments (the site's, and the sandbox that
configuration templates render in) take the rule from :class:`ItemsFirst`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ItemsFirst:
    """Mixed into a Jinja2 environment: ``mapping[key]`` is the mapping's item, or
    undefined when it has none, never one of its methods. Jinja2 falls back to an
    attribute, so a collector named ``update`` looked up in ``build.last_good`` found
    ``dict.update``. Other objects keep Jinja2's rule (``obj["attr"]``)."""

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Mapping):
            try:
                return obj[argument]
            except (AttributeError, TypeError, LookupError):
                return self.undefined(obj=obj, name=argument)  # type: ignore[attr-defined]
        return super().getitem(obj, argument)  # type: ignore[misc]
