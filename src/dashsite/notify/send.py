"""Sending a message: dashsite's JSON webhook, mail over SMTP, or any apprise URL.

Each send has a timeout; 5xx, 429 and no answer are tried again
(``retries`` more times, backoff 0.5 s, 1 s, 2 s…, at most
:data:`MAX_WAIT`, ``Retry-After`` honoured up to that); any other answer
fails at once. A send never raises: it returns a :class:`Delivery`, whose
error is one line and never holds the URL (it may carry a secret).
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from dashsite.core.config import MailSettings
from dashsite.core.levels import StatusLevel
from dashsite.core.version import VERSION as __version__
from dashsite.notify.config import mail_addresses, url_kind
from dashsite.notify.message import Message, clean

MAX_WAIT = 5.0
"""The longest pause between two attempts, seconds."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one send went."""

    delivered: bool
    error: str = ""
    tries: int = 1


class Sender(Protocol):
    """Anything that can send a :class:`Message`."""

    def send(self, message: Message) -> Delivery: ...


class _Retry(Exception):
    """An answer worth trying again (5xx, 429, no answer)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


def _attempts(
    once: Callable[[], None], retries: int, sleep: Callable[[float], None] = time.sleep
) -> Delivery:
    """Call ``once`` until it returns, a non-retryable error, or the retries run out."""
    error = ""
    for attempt in range(retries + 1):
        try:
            once()
            return Delivery(True, tries=attempt + 1)
        except _Retry as exc:
            error = str(exc)
            if attempt < retries:
                wait = exc.wait if exc.wait is not None else 0.5 * 2**attempt
                sleep(min(max(wait, 0.0), MAX_WAIT))
        except Exception as exc:
            return Delivery(False, clean(f"{type(exc).__name__}: {exc}", 300), attempt + 1)
    return Delivery(False, clean(error, 300), retries + 1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: object, **__: object) -> None:
        return None  # a webhook that moves is an error to see, not a POST to replay as GET


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class WebhookSender:
    """POSTs the message as JSON (:meth:`Message.to_json`) to an ``http(s)://`` URL."""

    def __init__(self, url: str, *, timeout: float = 10.0, retries: int = 2) -> None:
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.opener = urllib.request.build_opener(_NoRedirect)

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked: http(s) only
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": f"dashsite/{__version__}",
            },
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                answer.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            reason = f"HTTP {exc.code} {clean(str(exc.reason), 80)}"
            exc.close()
            if exc.code >= 500 or exc.code == 429:
                raise _Retry(reason, _retry_after(exc.headers.get("Retry-After"))) from None
            raise RuntimeError(reason) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            why = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise _Retry(f"no answer: {why}") from None

    def send(self, message: Message) -> Delivery:
        # <, > and & as \u escapes: a receiver that pastes the JSON into HTML gets no markup.
        text = json.dumps(message.to_json(), ensure_ascii=False)
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return _attempts(lambda: self._post(text.encode("utf-8")), self.retries)


class MailSender:
    """Mails the message (plain text) through the ``[mail]`` SMTP settings."""

    def __init__(
        self,
        addresses: list[str],
        settings: MailSettings,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.addresses = addresses
        self.settings = settings
        self.timeout = timeout
        self.retries = retries
        self.password = (environ or dict(os.environ)).get(settings.password_env, "")

    def send(self, message: Message) -> Delivery:
        from dashsite.mail.message import SMTPTransport

        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = self.settings.sender or "dashsite@localhost"
        mail["To"] = ", ".join(self.addresses)
        mail.set_content(message.text + "\n")
        transport = SMTPTransport(
            self.settings.host,
            self.settings.effective_port,
            security=self.settings.security,
            user=self.settings.user,
            password=self.password,
            timeout=self.timeout,
            cafile=self.settings.cafile,
        )

        def once() -> None:
            try:
                transport.send(mail)
            except (OSError, TimeoutError) as exc:
                raise _Retry(f"SMTP: {exc}") from None

        return _attempts(once, self.retries)


_APPRISE_TYPES = {
    StatusLevel.OK: "success",
    StatusLevel.WARNING: "warning",
    StatusLevel.ERROR: "failure",
    StatusLevel.CRITICAL: "failure",
}
"""A message's level → apprise's notify type (the colour and icon services show)."""


_LOGGED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ - [A-Z]+ - ")
"""The time and level apprise's log lines start with: not part of the reason told."""


class AppriseSender:
    """Any apprise URL (``slack://``, ``ntfy://``, ``json://``…): the ``notify`` extra.

    apprise picks Markdown or plain text per service from the Markdown body.
    """

    def __init__(self, url: str, *, timeout: float = 10.0, retries: int = 2) -> None:
        if "rto=" not in url and "cto=" not in url:
            url += ("&" if "?" in url else "?") + f"rto={timeout:g}&cto={timeout:g}"
        self.url = url
        self.retries = retries

    def send(self, message: Message) -> Delivery:
        # apprise loads its plugins lazily; their imports' deprecation notices are not ours.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return self._send(message)

    def _send(self, message: Message) -> Delivery:
        import apprise

        # Sequential: apprise's process-wide thread pool would outlive the command.
        service = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
        if not service.add(self.url):
            return Delivery(False, "apprise does not understand this URL (check its syntax)")

        def once() -> None:
            capture = apprise.LogCapture(level=apprise.logging.WARNING)  # type: ignore[no-untyped-call]
            with capture as log:
                ok = service.notify(
                    body=message.markdown,
                    title=message.title,
                    body_format=apprise.NotifyFormat.MARKDOWN,
                    notify_type=_APPRISE_TYPES[message.level],
                )
            if not ok:
                lines = [_LOGGED.sub("", x).strip() for x in log.getvalue().splitlines()]
                lines = [x for x in lines if x]
                raise _Retry(lines[-1] if lines else "apprise could not send")

        return _attempts(once, self.retries)


def sender_for(
    url: str,
    *,
    timeout: float = 10.0,
    retries: int = 2,
    mail: MailSettings | None = None,
    environ: dict[str, str] | None = None,
) -> Sender:
    """The sender for a target URL (``${VAR}`` already expanded)."""
    kind = url_kind(url)
    if kind == "webhook":
        return WebhookSender(url, timeout=timeout, retries=retries)
    if kind == "mail":
        return MailSender(
            mail_addresses(url), mail or MailSettings(), timeout=timeout, retries=retries,
            environ=environ,
        )  # fmt: skip
    return AppriseSender(url, timeout=timeout, retries=retries)
