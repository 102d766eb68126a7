"""One exception hierarchy for everything dashsite raises on purpose.

Every error a user can meet carries where it happened (``path`` and ``line``)
and what to do about it (``hint``), so the CLI can print it as one line:
``dashboards/x/template.html:12: unknown filter 'rendr' — check the filter name``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def shorten(text: str, limit: int) -> str:
    """``text``, or its start and end around ``…`` when longer than ``limit``.

    Both ends carry meaning: where a value went wrong (``c[0][0]``…), and
    what is wrong with it and what to do (``…nested deeper than 200 levels —
    return dicts…``). The printed line is cut, never the error itself.
    """
    if len(text) <= limit:
        return text
    head = (limit - 1) * 3 // 5
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head) :]}"


class DashsiteError(Exception):
    """Root of dashsite's own errors."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        hint: str = "",
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``path[:line]: message — hint``, the one form every command prints.

        ``path`` is the file or folder to fix; with none to blame, the line
        starts with ``dashsite:``.
        """
        where = "dashsite: "
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        tail = f" — {self.hint}" if self.hint else ""
        return f"{where}{self.message}{tail}"

    def lines(self) -> list[str]:
        """The lines the CLI prints for this error (one, for most errors)."""
        return [self.one_line()]

    def shown_from(self, root: Path) -> DashsiteError:
        """Itself, its ``path`` shown from ``root`` when absolute (a template's name as
        Jinja2's loader gives it): what a terminal or a preview page prints."""
        if self.path and Path(self.path).is_absolute():
            shown = display(Path(self.path), root)
            if shown != ".":  # (the project itself keeps its name)
                self.path = shown
                self.args = (self.one_line(),)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled by its fields, whatever the subclass's ``__init__`` takes: an error
        crosses from a build's worker process to the build (:mod:`dashsite.site.workers`)."""
        return (_rebuilt, (type(self), str(self), self.__dict__))


def _rebuilt(cls: type[DashsiteError], text: str, state: dict[str, Any]) -> DashsiteError:
    error = cls.__new__(cls)
    Exception.__init__(error, text)
    error.__dict__.update(state)
    return error


def detail_of(error: BaseException) -> str:
    """What went wrong, as a collector's error says it: ``str(error)``, but one of
    dashsite's own without a file to name reads as its message (and hint), not as the
    CLI's ``dashsite: …`` line."""
    if isinstance(error, DashsiteError) and error.path is None:
        return f"{error.message} — {error.hint}" if error.hint else error.message
    return str(error)


class CollectorError(DashsiteError):
    """A collector raised, timed out, or returned something unusable."""

    def __init__(self, name: str, cause: BaseException) -> None:
        self.name = name
        self.cause = cause
        self.__cause__ = cause  # a traceback shows the collector's own line (kstlib: from)
        detail = detail_of(cause) or type(cause).__name__
        if isinstance(cause, TimeoutError) and not str(cause):
            detail = "timed out"
        super().__init__(f"collector '{name}' failed: {type(cause).__name__}: {detail}")

    @property
    def collector_name(self) -> str:
        """The kstlib spelling of :attr:`name`."""
        return self.name


class RenderError(DashsiteError, ValueError):
    """A renderable or a template could not produce HTML."""


class RenderTypeMisuse(RenderError):
    """A render type was given a field of the wrong kind (a list for a title): the
    dashboard's code to fix, whatever the data. A collector that meets one is a
    problem naming its line, not a source that is down."""


class ConfigError(DashsiteError):
    """``dashsite.toml`` (or ``[tool.dashsite]``) is invalid.

    ``problems`` lists every problem found, one line each.
    """

    problems: list[str]

    def with_problems(self, problems: list[str]) -> ConfigError:
        """Attach the full list of problems (the CLI prints one per line)."""
        self.problems = list(problems)
        return self

    def lines(self) -> list[str]:
        """One printable line per problem, each starting with the file."""
        found = getattr(self, "problems", None)
        return list(found) if found else [self.one_line()]


class DashboardError(DashsiteError):
    """A dashboard folder cannot be loaded: bad slug, bad module, no template.

    ``slug`` names the dashboard (its folder) once discovery knows it.
    """

    slug: str = ""


class SiteError(DashsiteError):
    """The output site cannot be written, read or locked."""


class DeliveryError(DashsiteError):
    """A mail could not be sent (``dashsite mail``, ``MonitoringService.deliver``)."""


MonitoringError = DashsiteError
"""kstlib's name for the root of the monitoring errors: here, every dashsite error."""


class PublishError(DashsiteError):
    """A publish, pull or mail target refused or failed."""


class NothingPublished(PublishError):
    """``pull`` found no published site at the target."""


def display(path: Path, root: Path | None = None) -> str:
    """``path`` relative to ``root`` (or the working directory) when inside it."""
    base = root or Path.cwd()
    try:
        return str(path.relative_to(base))  # lexical first: no file system calls
    except ValueError:
        pass
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
