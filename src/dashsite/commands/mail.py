"""``dashsite mail SLUG --to …``: send a dashboard's latest version by email."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dashsite.core.config import load_config
from dashsite.core.errors import DashsiteError, display
from dashsite.core.reporter import say
from dashsite.mail.message import SMTPTransport, build_message, render_for_mail, write_eml


def _addresses(values: list[str] | None) -> list[str]:
    found = [part.strip() for value in values or [] for part in value.split(",") if part.strip()]
    for address in found:
        if "@" not in address or any(c in address for c in "\r\n<>"):
            raise DashsiteError(
                f"'{address}' is not an email address", hint="pass --to name@example.com"
            )
    return found


def run(args: argparse.Namespace) -> int:
    """Render for mail, then write an .eml or send it over SMTP."""
    config = load_config(Path(args.project))
    settings = config.mail
    to, cc = _addresses(args.to or list(settings.to)), _addresses(args.cc)
    if not to and not args.eml:  # a file is a draft: its recipients may come later
        raise DashsiteError("no recipient", hint="pass --to name@example.com or set [mail] to")
    sender = settings.sender or "dashsite@localhost"
    if any(c in sender for c in "\r\n") or "@" not in sender:
        raise DashsiteError(
            f"[mail] from {sender!r} is not one email address",
            path=display(config.source, config.root) if config.source else None,
            hint='set from = "dashboards@example.com"',
        )
    page = render_for_mail(config, args.slug, args.subject)
    message = build_message(page, sender=sender, to=to, cc=cc)
    if page.dropped_links:
        say(
            f"{page.dropped_links} relative link(s) left out of the mail: set base_url in "
            "dashsite.toml to the published site's address to keep them"
        )
    if args.eml:
        write_eml(message, Path(args.eml))
        print(f"wrote {args.eml}", file=sys.stderr)
        return 0
    password = ""
    if settings.user:
        password = os.environ.get(settings.password_env, "")
        if not password:
            raise DashsiteError(
                f"no SMTP password: ${settings.password_env} is not set",
                hint=f"export {settings.password_env}=… (never put it in a file)",
            )
    transport = SMTPTransport(
        settings.host,
        settings.effective_port,
        security=settings.security,
        user=settings.user,
        password=password,
        timeout=settings.timeout,
        cafile=settings.cafile,
    )
    transport.send(message)
    print(
        f"sent '{page.subject}' to {', '.join(to + cc)} via "
        f"{settings.host}:{settings.effective_port}",
        file=sys.stderr,
    )
    return 0
