"""Where a :class:`~dashsite.Monitoring` run goes: files in a folder (kstlib's FileDelivery).

``FileDelivery`` keeps kstlib's names, options and limits, and fixes two of
its faults: two runs in the same second no longer overwrite each other (the
second file gets ``-2``, the third ``-3``…, each created exclusively), and
rotation (``max_files``) deletes only files it wrote — they are listed in a
ledger beside them (``.dashsite-delivery.json``) — never another report or a
file someone put there. Every file is written whole (temporary file, then
linked into place) inside the folder.

``MailDelivery`` sends the HTML (with a plain-text part) through any
transport with ``send(message)``, sync or async — dashsite's
``SMTPTransport``, or kstlib's.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dashsite.core.errors import DeliveryError

if TYPE_CHECKING:
    from dashsite.kstlib.service import MonitoringResult

MAX_FILES_PER_DIR = 1000
"""``max_files`` may not exceed this."""
MAX_FILENAME_LENGTH = 200
MAX_NAME_LENGTH = 50
"""A report's name is cut to this many characters in its file name."""
MAX_DEPTH = 10
"""``output_dir`` may be this many folders below the current one (15 for an absolute path)."""
MAX_RECIPIENTS = 50
MAX_SUBJECT_LENGTH = 200
LEDGER = ".dashsite-delivery.json"
MAX_FILE_SIZE = 50 * 1024 * 1024
"""A report larger than this is refused (50 MB)."""
TIMESTAMP_FORMAT = "%Y%m%d_%H%M%S"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FIELDS = re.compile(r"\{(name|timestamp)\}")  # what filename_template may hold


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
    return cleaned[:MAX_NAME_LENGTH]


@dataclass(frozen=True, slots=True)
class FileDeliveryConfig:
    """Where and how :class:`FileDelivery` writes (validated on creation)."""

    output_dir: Path
    filename_template: str = "{name}_{timestamp}.html"
    max_files: int = 100
    """Files this delivery wrote to keep (the oldest go first); 0: keep all."""
    create_dirs: bool = True
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_dir", Path(self.output_dir))
        if self.max_files < 0:
            raise DeliveryConfigError(
                f"max_files cannot be negative ({self.max_files}); 0 keeps every file"
            )
        if self.max_files > MAX_FILES_PER_DIR:
            raise DeliveryConfigError(
                f"max_files exceeds limit ({self.max_files} > {MAX_FILES_PER_DIR})"
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
        encoding: str = "utf-8",
    ) -> None:
        self._config = FileDeliveryConfig(
            Path(output_dir), filename_template, max_files, create_dirs, encoding
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

    async def deliver(self, result: MonitoringResult, name: str) -> DeliveryResult:
        """Write ``result.html`` as a new file, then rotate.

        A failure raises :class:`DeliveryConfigError` or :class:`DeliveryIOError`
        (any other, :class:`DeliveryError`) and is kept in :attr:`last_result` too.
        """
        now = datetime.now(UTC)
        try:
            path = self._write(result.html.encode(self._config.encoding), name, now)
            removed = self._rotate(path)
        except DeliveryError as exc:
            self._last = DeliveryResult(False, now, error=str(exc))
            raise
        except OSError as exc:
            self._last = DeliveryResult(False, now, error=f"I/O error: {exc}")
            raise DeliveryIOError(f"Failed to write file: {exc}") from exc
        except Exception as exc:
            self._last = DeliveryResult(False, now, error=f"{type(exc).__name__}: {exc}")
            raise DeliveryError(f"delivery failed: {type(exc).__name__}: {exc}") from exc
        self._last = DeliveryResult(
            True,
            now,
            path=path,
            metadata={"size_bytes": path.stat().st_size, "files_deleted": len(removed)},
        )
        return self._last

    def _folder(self) -> Path:
        folder = self._config.output_dir
        try:
            depth = len(folder.resolve().relative_to(Path.cwd().resolve()).parts)
            limit = MAX_DEPTH
        except ValueError:
            depth, limit = len(folder.resolve().parts), MAX_DEPTH + 5
        if depth > limit:
            raise DeliveryConfigError(
                f"Output directory too deep ({depth} folders, at most {limit}): {folder}"
            )
        if self._config.create_dirs:
            folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise DeliveryConfigError(f"output_dir {folder} is not a folder")
        return folder

    def _write(self, payload: bytes, name: str, now: datetime) -> Path:
        if len(payload) > MAX_FILE_SIZE:
            raise DeliveryConfigError(
                f"the report is too large: {len(payload):,} bytes, over the "
                f"{MAX_FILE_SIZE:,}-byte limit"
            )
        folder = self._folder()
        stem = now.strftime(TIMESTAMP_FORMAT)
        handle, temporary = tempfile.mkstemp(prefix=".delivery-", dir=folder)
        os.close(handle)
        try:
            Path(temporary).write_bytes(payload)
            for attempt in range(1, MAX_FILES_PER_DIR + 2):
                stamp = stem if attempt == 1 else f"{stem}-{attempt}"
                filename = self._config.filename_template.format(
                    name=safe_name(name), timestamp=stamp
                )
                if len(filename) > MAX_FILENAME_LENGTH:
                    raise DeliveryConfigError(
                        f"file name too long ({len(filename)} > {MAX_FILENAME_LENGTH} "
                        f"characters): {filename[:40]}…"
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
            with contextlib.suppress(OSError):  # a hidden leftover at worst
                Path(temporary).unlink()

    def _rotate(self, written: Path) -> list[str]:
        """Record ``written`` in the ledger; delete the oldest files it lists beyond
        ``max_files``. Files it does not list (another report, yours) are never touched;
        a file that cannot be deleted stays listed, for the next run."""
        folder = self._config.output_dir
        ledger = folder / LEDGER
        mine = [*self._ledger(ledger), written.name]
        keep = self._config.max_files
        doomed = mine[: max(0, len(mine) - keep)] if keep else []
        removed = []
        for filename in doomed:
            try:
                (folder / filename).unlink(missing_ok=True)
            except OSError:
                continue  # best effort: tried again next time
            removed.append(filename)
        left = [filename for filename in mine if filename not in removed]
        from dashsite.store.write import atomic_write

        atomic_write(ledger, json.dumps({"schema": 1, "files": left}).encode())
        return removed

    def _ledger(self, ledger: Path) -> list[str]:
        """The files earlier runs wrote and kept, oldest first (still there, names valid)."""
        try:
            raw = json.loads(ledger.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return []
        files = raw.get("files") if isinstance(raw, dict) else None
        if not isinstance(files, list):
            return []
        folder = self._config.output_dir
        return [
            f
            for f in files
            if isinstance(f, str)
            and f == Path(f).name
            and not f.startswith(".")
            and (folder / f).is_file()
        ]


@dataclass(frozen=True, slots=True)
class MailDeliveryConfig:
    """Who a :class:`MailDelivery` mails, and its subject (``{name}`` is the report's)."""

    sender: str
    recipients: list[str]
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject_template: str = "Monitoring: {name}"
    include_plain_text: bool = True

    def __post_init__(self) -> None:
        if not self.sender.strip():
            raise DeliveryConfigError("a mail delivery needs a sender")
        if not self.recipients:
            raise DeliveryConfigError("a mail delivery needs at least one recipient")
        total = len(self.recipients) + len(self.cc) + len(self.bcc)
        if total > MAX_RECIPIENTS:
            raise DeliveryConfigError(
                f"too many recipients ({total} > {MAX_RECIPIENTS}, To, Cc and Bcc together)"
            )
        for address in (self.sender, *self.recipients, *self.cc, *self.bcc):
            if any(c in address for c in "\r\n") or "@" not in address:
                raise DeliveryConfigError(f"not an email address: {address!r}")


class MailDelivery:
    """Mails each run's HTML (and a plain-text part) through ``transport.send(message)``."""

    def __init__(self, transport: Any, config: MailDeliveryConfig) -> None:
        self._transport = transport
        self._config = config
        self._last: DeliveryResult | None = None

    @classmethod
    def create(
        cls,
        transport: Any,
        *,
        sender: str,
        recipients: list[str],
        cc: list[str] | None = None,
        bcc: list[str] | None = None,
        subject_template: str = "Monitoring: {name}",
        include_plain_text: bool = True,
    ) -> MailDelivery:
        """A delivery from keyword settings (checked as :class:`MailDeliveryConfig`)."""
        config = MailDeliveryConfig(
            sender, list(recipients), list(cc or []), list(bcc or []), subject_template,
            include_plain_text,
        )  # fmt: skip
        return cls(transport, config)

    @property
    def config(self) -> MailDeliveryConfig:
        """The settings, validated."""
        return self._config

    @property
    def last_result(self) -> DeliveryResult | None:
        """The outcome of the latest :meth:`deliver`, if any."""
        return self._last

    def _build_message(self, html: str, subject: str) -> EmailMessage:
        if len(subject) > MAX_SUBJECT_LENGTH:
            subject = subject[:MAX_SUBJECT_LENGTH] + "..."
        message = EmailMessage()
        message["From"] = self._config.sender
        message["To"] = ", ".join(self._config.recipients)
        if self._config.cc:
            message["Cc"] = ", ".join(self._config.cc)
        if self._config.bcc:
            message["Bcc"] = ", ".join(self._config.bcc)
        message["Subject"] = " ".join(subject.split())
        if self._config.include_plain_text:
            from dashsite.render.plaintext import html_to_text

            message.set_content(html_to_text(html))
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
        return message

    async def deliver(self, result: MonitoringResult, name: str) -> DeliveryResult:
        """Send ``result.html``; a failure raises :class:`DeliveryError` (kept in last_result)."""
        now = datetime.now(UTC)
        subject = self._config.subject_template.replace("{name}", name)
        message = self._build_message(result.html, subject)
        try:
            outcome = self._transport.send(message)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as exc:
            self._last = DeliveryResult(False, now, error=f"{type(exc).__name__}: {exc}")
            raise DeliveryError(f"the mail was not sent: {exc}") from exc
        self._last = DeliveryResult(
            True, now, message_id=message.get("Message-ID"), metadata={"subject": subject}
        )
        return self._last
