"""A collector: a named no-argument callable with its limits, and the ``@collector`` mark."""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from dashsite.core.config import every_seconds
from dashsite.core.errors import DashboardError

DEFAULT_TIMEOUT = 30.0
DEFAULT_BACKOFF = 0.2


@dataclass(frozen=True, slots=True)
class Collector:
    """A named no-argument callable, sync or async, with its own limits.

    ``timeout`` is per attempt (``None``: the engine's default); ``retries``
    more attempts follow a failure, ``backoff`` seconds apart, doubling.
    ``every`` (seconds) lets a build reuse the last good value while it is
    younger than that (see :mod:`dashsite.schedule`); None: run every build.
    """

    name: str
    func: Callable[[], Any]
    timeout: float | None = None
    retries: int = 0
    backoff: float = DEFAULT_BACKOFF
    every: float | None = None

    def __post_init__(self) -> None:
        """Limits that could never work are refused where the collector is declared: a
        timeout of 0 failed it on every build, "5" at run time, nan meant none."""
        timeout, retries, backoff = self.timeout, self.retries, self.backoff
        seconds = _seconds(timeout)
        if timeout is not None and (seconds is None or seconds <= 0):
            raise DashboardError(
                f"collector '{self.name}': timeout must be a number of seconds above 0, "
                f"not {timeout!r}",
                hint="e.g. @collector(timeout=5), or leave it out for the default",
            )
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise DashboardError(
                f"collector '{self.name}': retries must be a whole number from 0, not {retries!r}",
                hint="e.g. @collector(retries=2)",
            )
        pause = _seconds(backoff)
        if pause is None or pause < 0:
            raise DashboardError(
                f"collector '{self.name}': backoff must be seconds from 0, not {backoff!r}",
                hint="e.g. @collector(retries=2, backoff=1)",
            )
        object.__setattr__(self, "timeout", seconds)  # (a Decimal or a numpy number: float)
        object.__setattr__(self, "backoff", pause)

    @property
    def is_async(self) -> bool:
        """True for coroutine functions (and objects with an async ``__call__``)."""
        call = getattr(self.func, "__call__", None)  # noqa: B004 - looking for async __call__
        return inspect.iscoroutinefunction(self.func) or inspect.iscoroutinefunction(call)


def _seconds(value: Any) -> float | None:
    """A finite real number as float (a Decimal, a Fraction, a numpy number too), else
    None (a bool, text, nan, infinity)."""
    if isinstance(value, bool | complex) or not isinstance(value, numbers.Number):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


COLLECTOR_ATTRIBUTE = "__dashsite_collector__"


def every_duration(every: str | float | None) -> float | None:
    """``every=`` as seconds: ``"1h"`` → 3600.0, a positive number as is, None stays None."""
    if every is None:
        return None
    if isinstance(every, str):
        return every_seconds(every)  # ValueError names the accepted forms
    if isinstance(every, bool) or not isinstance(every, int | float) or not 0 < every < math.inf:
        raise ValueError(f'every must be a duration like "15m" or "1h", not {every!r}')
    return float(every)


F = TypeVar("F", bound=Callable[[], Any])


@overload
def collector(func: F, /) -> F: ...


@overload
def collector(
    *,
    name: str | None = None,
    timeout: float | None = None,
    retries: int = 0,
    backoff: float = DEFAULT_BACKOFF,
    every: str | float | None = None,
) -> Callable[[F], F]: ...


def collector(
    func: F | None = None,
    /,
    *,
    name: str | None = None,
    timeout: float | None = None,
    retries: int = 0,
    backoff: float = DEFAULT_BACKOFF,
    every: str | float | None = None,
) -> F | Callable[[F], F]:
    """Mark a function in ``dashboard.py`` as a collector.

    ``@collector`` uses the function's name as the template variable;
    ``@collector(name="api", timeout=5, retries=2)`` sets it and the limits;
    ``@collector(every="1h")`` runs it at most hourly, builds in between
    reusing its last good value. The function itself is returned unchanged,
    so it stays testable.
    """
    seconds = every_duration(every)

    def mark(target: F) -> F:
        if not callable(target):
            raise TypeError("@collector decorates a function")
        label = name or str(getattr(target, "__name__", "collector"))
        spec = Collector(label, target, timeout, retries, backoff, seconds)
        setattr(target, COLLECTOR_ATTRIBUTE, spec)
        return target

    return mark(func) if func is not None else mark
