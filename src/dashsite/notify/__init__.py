"""Notifications: tell people when a dashboard's status changes, once per change.

- :mod:`.config`: ``[notify]``, its targets and their rules;
- :mod:`.transitions`: the changes, computed from the site's history log;
- :mod:`.ledger`: ``notify-ledger.json``, what went where (travels with the site);
- :mod:`.message`: titles and bodies, untrusted text cleaned, sandboxed templates;
- :mod:`.send`: the JSON webhook, mail, apprise; timeouts, retries, backoff;
- :mod:`.site`: ``dashsite notify``'s run; :mod:`.notifier`: the library's ``Notifier``.
"""

from __future__ import annotations

from dashsite.notify.notifier import Notifier

__all__ = ["Notifier"]
