"""The ``dashsite`` command: argument parsing and error handling only.

Each sub-command lives in ``dashsite.commands.<name>`` with a ``run(args)``
that returns the exit code. A :class:`DashsiteError` becomes one line on
stderr and exit code 1; Ctrl-C exits 130; nothing prints a traceback unless
``--debug`` asks for it.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import math
import os
import select
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from dashsite.core.errors import DashsiteError, display
from dashsite.core.reporter import say
from dashsite.core.version import VERSION as __version__

COMMANDS = ("build", "list", "mail", "new", "notify", "publish", "pull", "serve")


def _positive(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, zero or more, not {text}")
    return value


def _whole(text: str, low: int, high: int, what: str) -> int:
    """``text`` as a whole number from ``low`` to ``high``, or the usage error naming ``what``."""
    try:
        value = int(text, 10)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be {what}, not {text}")
    return value


def _jobs(text: str) -> int | None:
    if text == "auto":
        return None
    return _whole(text, 1, sys.maxsize, "a number of processes, 1 or more, or auto")


def _port(text: str) -> int:
    return _whole(text, 0, 65535, "a port number from 0 to 65535")


def _scheduler(text: str) -> str:
    from dashsite.core.scheduler_address import address_problem

    problem = address_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    main = argparse.ArgumentParser(
        prog="dashsite", description="Monitoring dashboards as a versioned static site."
    )
    main.add_argument("--version", action="version", version=f"dashsite {__version__}")
    main.add_argument(
        "-C",
        "--project",
        default=".",
        metavar="DIR",
        help="the project folder (default: the current one)",
    )
    main.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = main.add_subparsers(dest="command", metavar="COMMAND", required=True)

    build = commands.add_parser("build", help="collect, render and file a new version of the site")
    build.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when any collector fails (the site is still built)",
    )
    build.add_argument("--version-id", metavar="ID", help="the new version's id (e.g. a CI run)")
    build.add_argument("--only", nargs="+", metavar="SLUG", help="build only these dashboards")
    build.add_argument(
        "--json",
        action="store_true",
        help="print a machine-readable report on stdout (what dashboards print goes to stderr)",
    )
    build.add_argument(
        "--lock-timeout",
        type=_positive,
        metavar="SECONDS",
        help="give up if another build holds the lock this long (default: wait)",
    )
    build.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    build.add_argument(
        "--force",
        action="store_true",
        help="build even into a non-empty folder that is not a dashsite site",
    )
    build.add_argument(
        "--refresh",
        action="store_true",
        help="run every collector, even those whose `every` allows reusing the last value",
    )
    build.add_argument(
        "--executor",
        choices=("threads", "dask"),
        help="where sync collectors run (default: `executor` in the config, else threads)",
    )
    build.add_argument(
        "--scheduler",
        type=_scheduler,
        metavar="ADDRESS",
        help="collect on this dask cluster (tcp://host:8786); implies --executor dask",
    )
    build.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N|auto",
        help="processes that render and write the dashboards after collection (default: auto, "
        "one per CPU when there are enough dashboards to pay for it; at most four a CPU, "
        "with a notice)",
    )

    commands.add_parser("list", help="list the dashboards and their collectors")

    new = commands.add_parser("new", help="scaffold a new dashboard")
    new.add_argument("slug", help="folder name and URL of the dashboard, e.g. service-health")
    new.add_argument("--markdown", action="store_true", help="use template.md instead of HTML")

    serve = commands.add_parser("serve", help="serve the site with live reload")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=_port, default=8000, help="0 picks a free port (default: %(default)s)"
    )
    serve.add_argument(
        "--watch",
        action="store_true",
        help="preview dashboards/ live: rebuild what changed on every save",
    )
    serve.add_argument(
        "--poll", action="store_true", help="poll for changes (Docker, WSL, network mounts)"
    )
    mail = commands.add_parser("mail", help="mail a dashboard's latest version")
    mail.add_argument("slug", help="the dashboard to send")
    mail.add_argument(
        "--to",
        action="extend",
        nargs="+",
        metavar="ADDR",
        help="recipients (one or more; optional with --eml, a draft)",
    )
    mail.add_argument(
        "--cc", action="extend", nargs="+", metavar="ADDR", help="copies to (one or more)"
    )
    mail.add_argument("--subject", help="subject (default: title, status and time)")
    mail.add_argument("--eml", metavar="FILE", help="write the message to FILE instead")

    notify = commands.add_parser(
        "notify", help="tell the [notify] targets what changed (run after publish)"
    )
    notify.add_argument(
        "--dry-run", action="store_true", help="print what would be sent; send nothing"
    )
    notify.add_argument(
        "--strict", action="store_true", help="exit 1 when a message could not be delivered"
    )
    notify.add_argument("--test", metavar="TARGET", help="send a sample message to TARGET")
    notify.add_argument(
        "--lock-timeout",
        type=_positive,
        metavar="SECONDS",
        help="give up if another command holds the site's lock this long (default: wait)",
    )

    for name, text in (
        ("publish", "send the built site to S3 or GitHub Pages"),
        ("pull", "bring the published history back into the site folder"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("target", help="s3://bucket/prefix or gh-pages")
        sub.add_argument("--endpoint-url", help="an S3-compatible endpoint (MinIO, R2, …)")
        sub.add_argument("--region", help="the S3 region")
        sub.add_argument("--remote", default="origin", help="git remote for gh-pages")
        sub.add_argument("--branch", default="gh-pages", help="branch for gh-pages")
        sub.add_argument(
            "--force",
            action="store_true",
            help="go ahead even if versions on one side are missing on the other",
        )
        sub.add_argument(
            "--lock-timeout",
            type=_positive,
            metavar="SECONDS",
            help="give up if another command holds the site's lock this long (default: wait)",
        )
        if name == "publish":
            sub.add_argument(
                "--dry-run",
                action="store_true",
                help="print what would be uploaded, deleted or committed",
            )
            sub.add_argument("--message", help="commit message for gh-pages")
            sub.add_argument(
                "--full",
                action="store_true",
                help="S3: compare every file with a listing of the target, not just what changed "
                "since the last publish (repairs a target edited by hand)",
            )
            sub.add_argument(
                "--verify",
                action="store_true",
                help="S3: list the target and upload again what is missing or differs; cheaper "
                "than --full (versions are checked by name), meant for a weekly run",
            )
        else:
            sub.add_argument(
                "--all",
                action="store_true",
                help="mirror every published file, not just what a build needs",
            )
            sub.add_argument(
                "--missing-ok",
                action="store_true",
                help="succeed when nothing is published yet (a first CI run)",
            )
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dashsite`` console script."""
    args = parser().parse_args(argv)
    try:
        module = importlib.import_module(f"dashsite.commands.{args.command}")
        code: int = module.run(args)
        return code
    except DashsiteError as exc:
        project = getattr(args, "project", None)
        if isinstance(project, str) and Path(project).is_dir():  # a template's absolute
            exc.shown_from(Path(project).resolve())  # name, shown from the project
        for line in exc.lines():
            say(line)
        return 1
    except KeyboardInterrupt:
        say("dashsite: interrupted")
        return 130
    except BrokenPipeError as exc:
        if not _stdout_gone():  # another pipe (a worker's, a target's): a failure to tell
            say(_os_error_line(exc))
            return 1
        _quiet_stdout()  # `dashsite list | head -1`: the reader has what it wanted
        return 128 + 13  # as a command stopped by SIGPIPE, said by no line
    except OSError as exc:
        say(_os_error_line(exc))
        return 1
    except Exception as exc:
        if args.debug:
            raise
        say(
            f"dashsite: internal error: {type(exc).__name__}: {exc} "
            "(run again with --debug for the traceback, and please report it)"
        )
        return 70


_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free some space and run again (the site is as it was)",
    errno.EDQUOT: "the disk quota is used up: free some space and run again",
    errno.EROFS: "the file system is read-only: use a writable folder",
    errno.EACCES: "permission denied: check the folder's owner and mode",
    errno.EPERM: "not permitted: check the folder's owner and mode",
    errno.EADDRINUSE: "the port is in use: pick another --port (0 picks a free one)",
    errno.EADDRNOTAVAIL: "that address is not on this machine: check --host",
}


def _stdout_gone() -> bool:
    """Whether standard output is a pipe whose reader has gone (or is closed)."""
    if sys.stdout is None:
        return True
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)  # POLLERR is always reported
        return any(event & (select.POLLERR | select.POLLNVAL) for _, event in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return True  # no descriptor left to write to


def _quiet_stdout() -> None:
    """Point standard output at ``/dev/null``: its reader is gone, and the flush at exit
    would fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _os_error_line(exc: OSError) -> str:
    """One line for a failure of the system (disk full, read-only, port taken…)."""
    where = f"{display(Path(exc.filename))}: " if exc.filename else "dashsite: "
    reason = exc.strerror or str(exc)
    hint = _OS_HINTS.get(exc.errno or 0, "")
    return f"{where}{reason}" + (f" — {hint}" if hint else "")


def _hold_standard_descriptors() -> None:
    """A closed stdin, stdout or stderr (``dashsite build >&-``) gets ``/dev/null``: else
    the next file opened takes its number (the build's lock, a page being written), and
    a dashboard's ``print()`` would land in it."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:  # (a lower one was free too: it is filled on its turn)
                os.dup2(opened, fd)
                os.close(opened)


def entry() -> NoReturn:
    """The console script: :func:`main`, then exit even if a collector thread is stuck.

    Threads of collectors that outlived their timeout are daemons and cannot
    hold the process; a thread a collector started itself might. Once the
    command is done (the site committed), nothing is worth waiting for.
    """
    _hold_standard_descriptors()
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:
            _quiet_stdout()
            code = code or 128 + 13
        except (OSError, ValueError):
            pass  # a stream closed under us: nothing left to say there
    lingering = [
        t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon
    ]
    if lingering:
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
