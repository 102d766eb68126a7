"""``Notifier``: the library's way to tell people, for kstlib-style scripts.

::

    from dashsite import MonitoringService, Notifier

    notifier = Notifier(["https://hooks.example.com/${HOOK_TOKEN}"], state="state.json")
    result = service.run_sync()
    notifier.notify_result("nightly-report", result, link="https://…")

With ``state``, :meth:`Notifier.notify_result` sends only when the status
changed since the last call (once per change); without it, every call sends.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashsite.core.config import MailSettings
from dashsite.core.errors import ConfigError
from dashsite.core.levels import StatusLevel
from dashsite.notify.config import apprise_available, expand, url_kind
from dashsite.notify.message import Message, MessageBuilder, markdown_escape
from dashsite.notify.send import Delivery, Sender, sender_for
from dashsite.notify.transitions import Transition
from dashsite.store.write import atomic_write


class Notifier:
    """Sends messages to target URLs (webhook, ``mailto:``, apprise), with timeouts and retries."""

    def __init__(
        self,
        targets: Sequence[str],
        *,
        timeout: float = 10.0,
        retries: int = 2,
        mail: MailSettings | None = None,
        state: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        problems: list[str] = []
        urls = [expand(url, env, f"target {n + 1}", problems) for n, url in enumerate(targets)]
        if not apprise_available():
            problems += [
                f"target {n + 1} needs apprise: pip install 'dashsite[notify]'"
                for n, url in enumerate(urls)
                if url_kind(url) == "apprise"
            ]
        if problems:
            raise ConfigError("; ".join(problems), hint="set the variables, or fix the URLs")
        self.senders: list[Sender] = [
            sender_for(url, timeout=timeout, retries=retries, mail=mail, environ=dict(env))
            for url in urls
        ]
        self.state = Path(state) if state is not None else None

    def send(self, title: str, text: str, *, link: str = "") -> list[Delivery]:
        """Send your own message to every target; one :class:`Delivery` each (never raises).

        The text is yours, so it goes as written (Markdown targets get it escaped).
        """
        tail = f"\n\n{link}" if link else ""
        one_line = " ".join(title.split())[:200]
        message = Message(one_line, text + tail, markdown_escape(text) + tail, link)
        return [sender.send(message) for sender in self.senders]

    def notify_result(self, name: str, result: Any, *, link: str = "") -> list[Delivery]:
        """Tell the targets a ``MonitoringResult``'s status (only when it changed, with state)."""
        level: StatusLevel = result.status
        previous = self._states().get(name)
        if self.state is not None and previous == level.slug:
            return []
        if self.state is not None and previous is None and level == StatusLevel.OK:
            self._remember(name, level)
            return []
        now = getattr(result, "collected_at", None) or datetime.now(UTC)
        errors = tuple((e.name, str(e.cause)) for e in getattr(result, "errors", []))
        kind = "recovered" if level == StatusLevel.OK else "opened"
        change = Transition(name, name, kind, "", now, now, "", level, errors)
        built = MessageBuilder("", name).build([change])
        tail = f"\n{link}" if link else ""
        message = Message(
            built.title, built.text + tail, built.markdown + tail, link, level, (change,)
        )
        deliveries = [sender.send(message) for sender in self.senders]
        if all(d.delivered for d in deliveries):
            self._remember(name, level)
        return deliveries

    def _states(self) -> dict[str, str]:
        if self.state is None:
            return {}
        try:
            raw = json.loads(self.state.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        return {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}

    def _remember(self, name: str, level: StatusLevel) -> None:
        if self.state is None:
            return
        states = {**self._states(), name: level.slug}
        atomic_write(self.state, (json.dumps(states, sort_keys=True) + "\n").encode())
