"""A published manifest that cannot be read: what to say, and the way to overwrite it.

The target's ``manifest.json`` is what a publish compares the site with. When
it is damaged (cut short, edited by hand, written by something else), the
publish stops and says so; ``--force`` replaces it with the site's own
(versions published only at the target are then no longer listed, though
their files stay), and ``pull`` from a good copy is the other way out.
"""

from __future__ import annotations

from collections.abc import Callable

from dashsite.core.errors import PublishError, shorten


class UnreadableManifest(PublishError):
    """The target's ``manifest.json`` is not a manifest dashsite can read."""


def unreadable_manifest(
    target: str, problem: object, *, command: str = "", forcing: str = "--full --force"
) -> UnreadableManifest:
    """The error for a damaged published manifest, with the hint and the way to overwrite.

    ``command`` is the target as ``dashsite publish`` takes it (default: ``target``).
    """
    return UnreadableManifest(
        f"the published manifest.json is unreadable ({shorten(str(problem), 120)})",
        path=f"{target}: manifest.json",
        hint=f"run 'dashsite publish {command or target} {forcing}' to replace it with this "
        "site's, or fix it at the target",
    )


def overwriting(target: str, problem: UnreadableManifest, say: Callable[[str], None]) -> None:
    """Say that ``--force`` replaces the damaged manifest."""
    say(
        f"{target}: the published manifest.json is unreadable; --force replaces it with this site's"
    )
