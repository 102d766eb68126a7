"""Where a :class:`~dashsite.Monitoring` run goes: files in a folder (kstlib's FileDelivery).

``FileDelivery`` keeps kstlib's names, options and limits, and fixes two of
its faults: two runs in the same second no longer overwrite each other (the
second file gets ``-2``, the third ``-3``…, each created exclusively), and
rotation (``max_files``) deletes only files this delivery's own name pattern
produced, never another report or a file someone put beside them. Every file
is written whole (temporary file, then linked into place) inside the folder.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .errors import DeliveryError

if TYPE_CHECKING:
    from .service import MonitoringResult

MAX_FILES_PER_DIR = 1000
"""``max_files`` may not exceed this."""
MAX_FILENAME_LENGTH = 200
MAX_FILE_SIZE = 50 * 1024 * 1024
"""A report larger than this is refused (50 MB)."""
TIMESTAMP_FORMAT = "%Y%m%d_%H%M%S"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FIELDS = re.compile(r"\{(name|timestamp)\}")


class DeliveryConfigError(DeliveryError, ValueError):
    """A delivery is set up wrongly (a bad folder, template or limit)."""


class DeliveryIOError(DeliveryError, OSError):
    """A delivery could not write or send."""


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one delivery did: ``success``, when, the file (``path``) or ``message_id``."""

    success: bool
    timestamp: datetime
    path: Path | None = None
    message_id: str | None = None
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class DeliveryBackend(Protocol):
    """Anything that can deliver a :class:`~dashsite.MonitoringResult` under a name."""

    def deliver(self, result: MonitoringResult, name: str) -> Awaitable[DeliveryResult]:
        """Send or store ``result``; what happened."""
        ...


def safe_name(name: str) -> str:
    """``name`` as a file-name part: letters, digits, ``.``, ``_`` and ``-`` only."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "report"
    return cleaned[:100]


@dataclass(frozen=True, slots=True)
class FileDeliveryConfig:
    """Where and how :class:`FileDelivery` writes (validated on creation)."""

    output_dir: Path
    filename_template: str = "{name}_{timestamp}.html"
    max_files: int = 100
    """Files of this delivery's pattern to keep per name (oldest go first); 0: all."""
    create_dirs: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.max_files <= MAX_FILES_PER_DIR:
            raise DeliveryConfigError(
                f"max_files must be between 0 (keep all) and {MAX_FILES_PER_DIR}, "
                f"not {self.max_files}"
            )
        template = self.filename_template
        if "{timestamp}" not in template:
            raise DeliveryConfigError(
                "filename_template must contain {timestamp}, or each run would replace the last"
            )
        if "/" in template or "\\" in template or template.startswith("."):
            raise DeliveryConfigError(
                f"filename_template must name a file in output_dir, not {template!r}"
            )
        leftover = _FIELDS.sub("", template)
        if "{" in leftover or "}" in leftover:
            raise DeliveryConfigError(
                f"filename_template may use {{name}} and {{timestamp}} only: {template!r}"
            )


class FileDelivery:
    """Writes each run's HTML to ``output_dir/<name>_<timestamp>.html``, keeping ``max_files``."""

    def __init__(
        self,
        output_dir: str | os.PathLike[str],
        *,
        filename_template: str = "{name}_{timestamp}.html",
        max_files: int = 100,
        create_dirs: bool = True,
    ) -> None:
        self._config = FileDeliveryConfig(
            Path(output_dir), filename_template, max_files, create_dirs
        )
        self._last: DeliveryResult | None = None

    @property
    def config(self) -> FileDeliveryConfig:
        """The settings, validated."""
        return self._config

    @property
    def last_result(self) -> DeliveryResult | None:
        """The outcome of the latest :meth:`deliver`, if any."""
        return self._last

    def pattern(self, name: str) -> re.Pattern[str]:
        """The file names this delivery writes for ``name`` (and only those)."""
        parts = _FIELDS.split(self._config.filename_template)
        regex = ""
        for index, part in enumerate(parts):
            if index % 2 == 0:
                regex += re.escape(part)
            elif part == "name":
                regex += re.escape(safe_name(name))
            else:
                regex += r"(?P<ts>[0-9]{8}_[0-9]{6})(?:-(?P<n>[0-9]{1,6}))?"
        return re.compile(regex)

    async def deliver(self, result: MonitoringResult, name: str) -> DeliveryResult:
        """Write ``result.html`` as a new file, then rotate.

        A failure raises :class:`DeliveryConfigError` or :class:`DeliveryIOError`
        and is kept in :attr:`last_result` too.
        """
        now = datetime.now(UTC)
        try:
            path = self._write(result.html.encode("utf-8"), name, now)
            removed = self._rotate(name)
        except DeliveryError as exc:
            self._last = DeliveryResult(False, now, error=str(exc))
            raise
        except OSError as exc:
            self._last = DeliveryResult(False, now, error=f"{type(exc).__name__}: {exc}")
            raise DeliveryIOError(f"cannot write the report: {exc}") from exc
        self._last = DeliveryResult(
            True, now, path=path, metadata={"size": path.stat().st_size, "rotated": removed}
        )
        return self._last

    def _folder(self) -> Path:
        folder = self._config.output_dir
        if self._config.create_dirs:
            folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise DeliveryConfigError(f"output_dir {folder} is not a folder")
        return folder

    def _write(self, payload: bytes, name: str, now: datetime) -> Path:
        if len(payload) > MAX_FILE_SIZE:
            raise DeliveryConfigError(
                f"the report is {len(payload):,} bytes, over the {MAX_FILE_SIZE:,}-byte limit"
            )
        folder = self._folder()
        stem = now.strftime(TIMESTAMP_FORMAT)
        handle, temporary = tempfile.mkstemp(prefix=".delivery-", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(payload)
            for attempt in range(1, MAX_FILES_PER_DIR + 2):
                stamp = stem if attempt == 1 else f"{stem}-{attempt}"
                filename = self._config.filename_template.format(
                    name=safe_name(name), timestamp=stamp
                )
                if len(filename) > MAX_FILENAME_LENGTH:
                    raise DeliveryConfigError(
                        f"file name {filename[:40]!r}… is over {MAX_FILENAME_LENGTH} characters"
                    )
                target = folder / filename
                if target.resolve().parent != folder.resolve():
                    raise DeliveryConfigError(f"{filename!r} would be outside {folder}")
                try:
                    os.link(temporary, target)  # atomic, and never replaces a file
                except FileExistsError:
                    continue
                return target
            raise DeliveryIOError(f"more than {MAX_FILES_PER_DIR} reports in one second")
        finally:
            Path(temporary).unlink()

    def _rotate(self, name: str) -> list[str]:
        """Delete the oldest of this delivery's own files beyond ``max_files``."""
        keep = self._config.max_files
        if keep == 0:
            return []
        pattern = self.pattern(name)
        mine = []
        for entry in os.scandir(self._config.output_dir):
            found = pattern.fullmatch(entry.name)
            if found and entry.is_file(follow_symlinks=False):
                mine.append((found["ts"], int(found["n"] or 1), entry.name))
        mine.sort()
        removed = [filename for *_, filename in mine[: max(0, len(mine) - keep)]]
        for filename in removed:
            (self._config.output_dir / filename).unlink(missing_ok=True)
        return removed
