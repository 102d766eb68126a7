"""``dashsite notify``: tell the configured targets what changed, once per change."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from dashsite.core.config import load_config
from dashsite.core.levels import StatusLevel
from dashsite.core.reporter import say
from dashsite.notify.config import read_settings
from dashsite.notify.message import MessageBuilder
from dashsite.notify.send import Delivery, sender_for
from dashsite.notify.site import Outgoing, notify_site
from dashsite.notify.transitions import Transition


def _line(found: Outgoing, delivery: Delivery | None) -> str:
    title = found.message.title
    if delivery is None:
        return f"would send to {found.target.name}: {title}"
    if delivery.delivered:
        return f"sent to {found.target.name}: {title}"
    return (
        f"not delivered to {found.target.name} after {delivery.tries} tries: {delivery.error} "
        "(kept in the ledger, sent again on the next run)"
    )


def _test(args: argparse.Namespace) -> int:
    """Send a sample message to one target (the ledger is not touched)."""
    config = load_config(Path(args.project))
    settings = read_settings(config)
    target = settings.target(args.test)
    now = datetime.now(UTC)
    sample = Transition(
        "example",
        "Example dashboard (a test from dashsite notify --test)",
        "opened",
        "20000101T000000Z",
        now,
        now,
        "20000101T000000Z",
        StatusLevel.ERROR,
        (("api", "ConnectionError: a sample error"),),
        "index.html",
    )
    message = MessageBuilder(config.base_url, "dashsite").build([sample])
    sender = sender_for(
        target.url, timeout=settings.timeout, retries=settings.retries, mail=config.mail
    )
    delivery = sender.send(message)
    if delivery.delivered:
        say(f"sent a test message to {target.name} ({target.shown})")
        return 0
    say(f"{target.name} ({target.shown}): not delivered: {delivery.error}")
    return 1


def run(args: argparse.Namespace) -> int:
    """Send what changed since the last run; ``--strict``: exit 1 if a send failed."""
    if args.test:
        return _test(args)
    config = load_config(Path(args.project))

    def show(found: Outgoing, delivery: Delivery | None) -> None:
        say(_line(found, delivery))
        if delivery is None:
            print(f"--- to {found.target.name}: {found.message.title}", file=sys.stdout)
            print(found.message.text, file=sys.stdout)

    if not read_settings(config).targets:
        say("no targets in [notify]: nothing to send (see docs/notifications.md)")
        return 0
    report = notify_site(
        config, dry_run=args.dry_run, lock_timeout=args.lock_timeout, on_message=show
    )
    if not report.planned:
        say("nothing to notify")
    if report.failed and args.strict:
        return 1
    return 0
