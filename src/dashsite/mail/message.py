"""Mail a dashboard: inline-CSS HTML, inline images, a readable text part, SMTP.

The mailed page is the dashboard's latest version, re-rendered from that
version's ``data.json`` with inline styles (mail clients drop ``<style>``)
inside a table-based mail layout, with the uptime windows and incidents of
its latest page (the build's status view, read back: :mod:`dashsite.site.views`).
Images carried as ``data:`` URIs become inline attachments referenced by
``cid:``, which mail clients display; inline SVG becomes a PNG attachment the
same way (with the ``mail-png`` extra). Relative links become absolute under
``base_url``, or are dropped. A long unbroken word (a hash, a URL) gets places
to break, and a table scrolls in its own box, so neither pushes the mail past a
phone's width.
"""

from __future__ import annotations

import copy
import re
import smtplib
import ssl
from base64 import b64decode
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from markupsafe import Markup

from dashsite.collection.discover import template_dashboard
from dashsite.collection.engine import DashboardData
from dashsite.core.config import SMTP_PORTS, SiteConfig
from dashsite.core.errors import DashsiteError, DeliveryError, RenderError, display
from dashsite.core.words import status_words
from dashsite.render.environment import create_environment
from dashsite.render.history import LazyHistory
from dashsite.render.pages import (
    compile_template,
    dashboard_context,
    is_document,
    render_body,
    render_compiled,
)
from dashsite.render.plaintext import html_to_text
from dashsite.site.views import latest_view
from dashsite.store.clock import status_time
from dashsite.store.layout import MANIFEST_FILE, from_dashboard
from dashsite.store.version_store import Manifest, VersionStore
from dashsite.types.formats import to_datetime
from dashsite.types.renderables import CollectorFailure
from dashsite.types.serialize import from_jsonable

_DATA_URI = re.compile(r'src="data:(image/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=]+)"')
_BARE_TAG = re.compile(r"<(table|th|td|pre|code|blockquote|h[1-6])(\s[^>]*)?>", re.IGNORECASE)
_STYLE_ATTRIBUTE = re.compile(r'style="([^"]*)"', re.IGNORECASE)
_MAIL_STYLES = {
    "table": "border-collapse:collapse;margin:8px 0;",
    "th": "text-align:left;padding:6px 10px;border:1px solid #d0d7de;background:#f6f8fa;",
    "td": "padding:6px 10px;border:1px solid #d0d7de;vertical-align:top;",
    "pre": "background:#f6f8fa;padding:8px;border-radius:6px;white-space:pre-wrap;"
    "word-break:break-word;",
    "code": "font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px;",
    "blockquote": "margin:8px 0;padding-left:12px;border-left:3px solid #d0d7de;color:#57606a;",
    "h1": "font-size:20px;margin:16px 0 8px;",
    "h2": "font-size:18px;margin:16px 0 8px;",
    "h3": "font-size:16px;margin:12px 0 6px;",
}


def inline_defaults(html: str) -> str:
    """Give plain tags (from Markdown, say) the inline styles a mail client needs."""

    def styled(match: re.Match[str]) -> str:
        tag, attrs = match.group(1), match.group(2) or ""
        extra = _MAIL_STYLES.get(tag.lower(), "")
        if not extra:
            return match.group(0)
        if found := _STYLE_ATTRIBUTE.search(attrs):  # its own style (an alignment) wins
            merged = f'style="{extra}{found.group(1)}"'
            return f"<{tag}{attrs[: found.start()]}{merged}{attrs[found.end() :]}>"
        return f'<{tag}{attrs} style="{extra}">'

    return _BARE_TAG.sub(styled, html)


_MARKUP = re.compile(
    r"(<(?:svg|style|script|textarea|title)\b.*?</(?:svg|style|script|textarea|title)>|<[^>]*>)",
    re.IGNORECASE | re.DOTALL,
)
_LONG_WORD = re.compile(r"(?:&[#0-9A-Za-z]+;|[^\s<>&]){24,}")
_LETTER = re.compile(r"&[#0-9A-Za-z]+;|.", re.DOTALL)
BREAK_EVERY = 8
"""In a word of 24 characters or more, a break is allowed after every 8."""


def breakable(html: str) -> str:
    """Long unbroken words in the text of ``html`` given ``<wbr>`` every few characters.

    A table is never narrower than its longest word, so one hash or URL in a
    cell pushed a whole mail past a phone's width; ``overflow-wrap`` cannot
    help there without breaking every other cell's words too. Tags, their
    attributes, inline SVG and the text of style, script, textarea and title
    are left alone; an entity is one character.
    """

    def split(match: re.Match[str]) -> str:
        letters = _LETTER.findall(match.group(0))
        return "<wbr>".join(
            "".join(letters[n : n + BREAK_EVERY]) for n in range(0, len(letters), BREAK_EVERY)
        )

    return "".join(
        part if n % 2 else _LONG_WORD.sub(split, part) for n, part in enumerate(_MARKUP.split(html))
    )


_TABLE_TAG = re.compile(r"<(/?)table\b[^>]*>", re.IGNORECASE)
_SCROLLS = '<div style="overflow-x:auto;max-width:100%;">'


def scrolling_tables(html: str) -> str:
    """Each outermost table of ``html`` inside a box that scrolls sideways.

    A table with many columns cannot be narrower than its columns' words: in a
    mail client that scrolls boxes (Apple Mail, iOS, Gmail on the web) it then
    scrolls inside the mail, as the site's tables do, instead of widening it.
    """
    out, depth, last = [], 0, 0
    for match in _TABLE_TAG.finditer(html):
        closing = bool(match.group(1))
        if not closing and depth == 0:
            out += [html[last : match.start()], _SCROLLS]
            last = match.start()
        depth = max(0, depth - 1) if closing else depth + 1
        if closing and depth == 0:
            out += [html[last : match.end()], "</div>"]
            last = match.end()
    out.append(html[last:])
    return "".join(out) + ("</div>" if depth else "")  # an unclosed table: still closed


_SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.IGNORECASE | re.DOTALL)
_SVG_ATTRIBUTE = re.compile(r'\s(width|height|aria-label)="([^"]*)"')
_LINK = re.compile(r'<a\b([^>]*?)\shref="([^"]*)"([^>]*)>(.*?)</a>', re.IGNORECASE | re.DOTALL)
_ABSOLUTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|#)", re.IGNORECASE)


def svg_to_png(svg: str) -> bytes | None:
    """``svg`` drawn as PNG at twice its size, or None without the rasterizer.

    The rasterizer is the optional ``dashsite[mail-png]`` extra (resvg-py: a
    wheel with no system libraries).
    """
    try:
        import resvg_py
    except ImportError:
        return None
    try:
        # Charts have axis labels: they need the system's fonts (slower to load, so
        # sparklines, which have no text, skip them).
        fonts = "<text" not in svg
        return bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=2, skip_system_fonts=fonts))
    except ValueError:
        return None


def rasterize_svgs(html: str) -> tuple[str, list[tuple[str, str, bytes]]]:
    """Inline ``<svg>`` (sparklines, charts) → ``<img>`` of a PNG inline attachment.

    Gmail and Outlook drop inline SVG. Without the rasterizer the SVG stays
    (clients that draw it still do; the text summary beside a sparkline
    stays either way).
    """
    images: list[tuple[str, str, bytes]] = []

    def swap(match: re.Match[str]) -> str:
        svg = match.group(0)
        png = svg_to_png(svg)
        if png is None:
            return svg
        opening = svg[: svg.index(">")]
        attributes = {k.lower(): v for k, v in _SVG_ATTRIBUTE.findall(opening)}
        cid = make_msgid(domain="dashsite")[1:-1]
        images.append((cid, "image/png", png))
        size = "".join(
            f' {name}="{attributes[name]}"' for name in ("width", "height") if name in attributes
        )
        alt = attributes.get("aria-label", "chart")  # already escaped in the SVG
        style = "vertical-align:middle;border:0;max-width:100%;height:auto"
        return f'<img src="cid:{cid}" alt="{alt}"{size} style="{style}">'

    return _SVG.sub(swap, html), images


def absolute_links(html: str, base: str) -> tuple[str, int]:
    """Relative links made absolute under ``base``, or unwrapped when there is none.

    A relative link in a mail client leads nowhere. Returns the HTML and how
    many links were dropped.
    """
    dropped = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal dropped
        before, href, after, text = match.groups()
        if _ABSOLUTE.match(href):
            return match.group(0)
        if base:
            return f'<a{before} href="{base}{href.removeprefix("./")}"{after}>{text}</a>'
        dropped += 1
        return str(text)

    return _LINK.sub(fix, html), dropped


@dataclass(frozen=True, slots=True)
class MailPage:
    """A dashboard rendered for mail: subject, HTML, text and inline images."""

    subject: str
    html: str
    text: str
    images: list[tuple[str, str, bytes]] = field(default_factory=list)  # cid, mime, data
    dropped_links: int = 0


def extract_images(html: str) -> tuple[str, list[tuple[str, str, bytes]]]:
    """Replace ``data:`` image URIs with ``cid:`` references; return the images."""
    images: list[tuple[str, str, bytes]] = []

    def swap(match: re.Match[str]) -> str:
        cid = make_msgid(domain="dashsite")[1:-1]
        images.append((cid, match.group(1), b64decode(match.group(2))))
        return f'src="cid:{cid}"'

    return _DATA_URI.sub(swap, html), images


def render_for_mail(config: SiteConfig, slug: str, subject: str | None = None) -> MailPage:
    """The latest version of ``slug``, re-rendered from its data for mail."""
    site = config.site_path
    store = VersionStore(site)
    manifest = store.load_manifest() if (site / MANIFEST_FILE).is_file() else Manifest()
    record = manifest.dashboards.get(slug)
    if record is None or record.latest is None:
        raise DashsiteError(
            f"no built version of '{slug}'",
            path=display(site, config.root),
            hint="check the name with 'dashsite list', then 'dashsite build'",
        )
    latest = record.latest
    data_file = site / latest.data_url
    try:
        raw = store.load_version(slug, latest.data_url).to_json()
        values: dict[str, Any] = from_jsonable(raw.get("data", {}))  # render types checked
    except (OSError, ValueError) as exc:
        reason = "missing" if isinstance(exc, FileNotFoundError) else f"unreadable ({exc})"
        raise DashsiteError(
            f"the latest version's data is {reason}",
            path=display(data_file, config.root),
            hint="build again, or bring it back with 'dashsite pull TARGET --all'",
        ) from None
    # The data is collected already: the template is read, dashboard.py is not run.
    dashboard = template_dashboard(
        config.dashboards_path / slug, record.title, record.description, root=config.root
    )
    if dashboard is None:
        raise DashsiteError(
            f"dashboard '{slug}' has no template any more",
            path=display(config.dashboards_path / slug, config.root),
        )
    errors = {str(k): str(v) for k, v in raw.get("errors", {}).items()}
    for name, message in errors.items():
        values[name] = CollectorFailure(name, message)
    data = DashboardData(dashboard, values, raw.get("data", {}), errors, [], latest.status)
    environment = create_environment([config.layouts_path, config.dashboards_path], inline_css=True)
    seen = record.seen or latest  # a check since: collected again then, the data unchanged
    collected_at = to_datetime(seen.collected_at) or datetime.now(UTC)
    site_context: dict[str, Any] = {
        "title": config.title,
        "base_url": _base(config.base_url),
        "assets": {},
        "built_at": collected_at,
        "dashboards": [],
        "preview": False,
        "words": status_words(config.status_words),
    }
    history = LazyHistory(store, record, config.history, skip_latest=True)
    drawn_at = collected_at  # the page's own moment (a clock set back: the site's time)
    if manifest.built_at is not None and manifest.site_time is not None:
        drawn_at = status_time(collected_at, manifest.site_time, manifest.built_at)
    view = latest_view(config, store, copy.deepcopy(record), drawn_at)
    extra = {"timeline": view, "unchanged_since": latest if seen is not latest else None}
    context = dashboard_context(
        data, latest.id, collected_at, history, site_context, latest=True,
        folder=from_dashboard(slug, latest.path), extra=extra,
    )  # fmt: skip
    base = _base(config.base_url)  # in a mail, links must be absolute (or absent)
    context.update(root=base, dashboard_root=f"{base}{slug}/" if base else "")
    context["build"]["collectors"] = raw.get("collectors", {})
    context["problem"] = record.problem  # the latest build could not load or draw it
    body = render_body(
        environment, dashboard.template_name, context, markdown=dashboard.is_markdown
    )
    if is_document(body):
        raise RenderError(
            "a template that is a whole page cannot be mailed",
            path=display(dashboard.template, config.root),
            hint="let the template render a fragment inside the layout",
        )
    layout = compile_template(environment, name="email.html")
    content = Markup(inline_defaults(scrolling_tables(breakable(body))))  # noqa: S704 - rendered
    html = render_compiled(layout, {**context, "content": content})
    html, images = extract_images(html)
    html, charts = rasterize_svgs(html)
    html, dropped = absolute_links(html, f"{base}{slug}/" if base else "")
    when = collected_at.astimezone(UTC)
    level = view.shown_level(latest.status) if view is not None else latest.status
    words = site_context["words"]  # the word the index's card uses
    said = words.failed if record.problem else words.level(level)
    default_subject = f"{dashboard.title}: {said} — {when:%Y-%m-%d %H:%M} UTC"
    return MailPage(
        one_line(subject or default_subject), html, html_to_text(html), images + charts, dropped
    )


def one_line(text: str) -> str:
    """A header value on one line: line breaks and other controls become spaces."""
    return " ".join("".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in text).split())


def _base(url: str) -> str:
    return url if not url or url.endswith("/") else url + "/"


def build_message(
    page: MailPage, *, sender: str, to: list[str], cc: list[str] | None = None
) -> EmailMessage:
    """``multipart/alternative``: text, then HTML with its images related to it."""
    message = EmailMessage()
    message["Subject"] = page.subject
    message["From"] = sender
    if to:  # (none in a draft written with --eml)
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "dashsite")
    message.set_content(page.text, subtype="plain", charset="utf-8")
    message.add_alternative(page.html, subtype="html", charset="utf-8")
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    for cid, mime, data in page.images:
        maintype, _, subtype = mime.partition("/")
        html_part.add_related(
            data, maintype=maintype, subtype=subtype, cid=f"<{cid}>", disposition="inline"
        )
    return message


class SMTPTransport:
    """Sends messages over SMTP; usable with ``MonitoringService.deliver``.

    ``security`` is ``starttls`` (upgrade a plain connection, port 587),
    ``ssl`` (TLS from the start, port 465) or ``none`` (port 25, local relays).
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        security: str = "starttls",
        user: str = "",
        password: str = "",
        timeout: float = 30.0,
        cafile: str = "",
    ) -> None:
        if security not in SMTP_PORTS:
            raise ValueError(f"unknown SMTP security {security!r}")
        self.host = host
        self.port = port or SMTP_PORTS[security]
        self.security = security
        self.user = user
        self.password = password
        self.timeout = timeout
        try:
            self.context = ssl.create_default_context(cafile=cafile or None)
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError(
                f"[mail] cafile '{cafile}' cannot be read: {exc.strerror or exc}",
                hint="give the path of a PEM file of CA certificates, or leave cafile out",
            ) from None

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.context
            )
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            client.starttls(context=self.context)
        return client

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` to its To and Cc recipients."""
        where = f"{self.host}:{self.port}"
        try:
            with self._connect() as client:
                if self.user:
                    client.login(self.user, self.password)
                refused = client.send_message(message)
        except smtplib.SMTPAuthenticationError:
            raise DeliveryError(
                f"SMTP authentication failed for '{self.user}' at {where}",
                hint="check [mail] user and the password variable",
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"the SMTP server refused every recipient: {', '.join(exc.recipients)}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(
                f"{where} does not support this: {exc}",
                hint="check [mail] security (starttls, ssl, none)",
            ) from None
        except (smtplib.SMTPException, ssl.SSLError) as exc:
            raise DeliveryError(
                f"SMTP error at {where}: {exc}", hint="check [mail] host, port and security"
            ) from None
        except (TimeoutError, OSError) as exc:
            raise DeliveryError(
                f"cannot connect to the SMTP server {where}: {exc.strerror or exc}",
                hint="check [mail] host and port, and that the server runs",
            ) from None
        if refused:
            sent = [r for r in _recipients(message) if r not in refused]
            raise DeliveryError(
                f"sent to {', '.join(sent)}; the SMTP server refused: {', '.join(sorted(refused))}",
                hint="check the refused addresses, and send only to them again",
            )


def _recipients(message: EmailMessage) -> list[str]:
    """The To and Cc addresses, as ``send_message`` sends to them."""
    from email.utils import getaddresses

    fields = [str(v) for key in ("To", "Cc") for v in message.get_all(key, [])]
    return [address for _, address in getaddresses(fields) if address]


def write_eml(message: EmailMessage, path: Path) -> None:
    """Write ``message`` as an ``.eml`` file (atomically)."""
    from dashsite.store.write import atomic_write

    atomic_write(path, bytes(message))
