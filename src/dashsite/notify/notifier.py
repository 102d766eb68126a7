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

import hashlib
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
        self.keys = [hashlib.sha256(url.encode()).hexdigest()[:12] for url in targets]
        """Each target's name in the state file: its URL as written (placeholders, not
        secrets), hashed."""
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
        """Tell the targets a ``MonitoringResult``'s status; with ``state``, only the targets
        not told this status of ``name`` yet (once per change and per target: one target
        down is tried again on the next call, the others are not told twice)."""
        level: StatusLevel = result.status
        told = self._told(name)
        if self.state is not None:
            if all(found is None for found in told.values()) and level == StatusLevel.OK:
                self._remember(name, dict.fromkeys(told, level.slug))
                return []  # the first call, all well: nothing changed to tell
            if level == StatusLevel.OK:  # a target added while all is well: nothing to recover
                new = {key: level.slug for key, found in told.items() if found is None}
                self._remember(name, new)
                told = {**told, **new}
            due = [key for key, found in told.items() if found != level.slug]
            if not due:
                return []
        else:
            due = list(told)
        now = getattr(result, "collected_at", None) or datetime.now(UTC)
        errors = tuple((e.name, str(e.cause)) for e in getattr(result, "errors", []))
        kind = "recovered" if level == StatusLevel.OK else "opened"
        change = Transition(name, name, kind, "", now, now, "", level, errors)
        built = MessageBuilder("", name).build([change])
        tail = f"\n{link}" if link else ""
        message = Message(
            built.title, built.text + tail, built.markdown + tail, link, level, (change,)
        )
        senders = dict(zip(self.keys, self.senders, strict=True))
        deliveries = [senders[key].send(message) for key in due]
        delivered = {key: level.slug for key, d in zip(due, deliveries, strict=True) if d.delivered}
        self._remember(name, delivered)
        return deliveries

    def _told(self, name: str) -> dict[str, str | None]:
        """Target key → the status of ``name`` it was last told (None: never)."""
        found = self._states().get(name)
        if isinstance(found, str):  # written before targets were told apart: all of them
            return dict.fromkeys(self.keys, found)
        mine = found if isinstance(found, dict) else {}
        return {key: v if isinstance(v := mine.get(key), str) else None for key in self.keys}

    def _states(self) -> dict[str, Any]:
        if self.state is None:
            return {}
        try:
            raw = json.loads(self.state.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if isinstance(v, str | dict)}

    def _remember(self, name: str, told: Mapping[str, str]) -> None:
        if self.state is None or not told:
            return
        states = self._states()
        states[name] = {**{k: v for k, v in self._told(name).items() if v is not None}, **told}
        atomic_write(self.state, (json.dumps(states, sort_keys=True) + "\n").encode())
