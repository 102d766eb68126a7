"""``dashsite serve [--watch]``: the authoring loop."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from dashsite.collection.workers import stuck_threads
from dashsite.core.config import SiteConfig, load_config
from dashsite.core.errors import SiteError, display
from dashsite.core.reporter import say
from dashsite.preview.builder import PreviewBuilder, Rebuild
from dashsite.preview.server import PreviewServer, is_local, run_in_thread
from dashsite.preview.watch import ChangeBatcher, FileWatcher
from dashsite.store.layout import MANIFEST_FILE


def _report(rebuild: Rebuild) -> None:
    ran = f", collectors of {', '.join(rebuild.collected)} ran" if rebuild.collected else ""
    say(f"rebuilt ({rebuild.reason}) in {rebuild.duration * 1000:.0f} ms{ran}")
    for problem in rebuild.problems:
        say(problem)


class _Stuck:
    """Says when a dashboard's code is left running past its timeout (an import or a
    collector that never returns): a thread cannot be stopped, so it runs on, a busy
    loop burning a CPU, until the preview is restarted. Looked at a moment after each
    rebuild, when the threads of a finished collection have ended."""

    AFTER = 1.0

    def __init__(self) -> None:
        self.busy = False
        self.told = 0
        self._lock = threading.Lock()

    def rebuilding(self) -> None:
        with self._lock:
            self.busy = True

    def rebuilt(self) -> None:
        with self._lock:
            self.busy = False
        timer = threading.Timer(self.AFTER, self._look)
        timer.daemon = True
        timer.start()

    def _look(self) -> None:
        with self._lock:
            if self.busy:
                return  # (another rebuild: looked at after it)
            stuck = stuck_threads(grace=0)
            if len(stuck) > self.told:
                say(
                    f"{len(stuck)} thread(s) still running a dashboard's code past its "
                    "timeout (an import or a collector that never returns): they cannot "
                    "be stopped and run on until you restart 'dashsite serve'"
                )
            self.told = len(stuck)


def run(args: argparse.Namespace) -> int:
    """Serve the site (or, with --watch, a live preview) until Ctrl-C."""
    root = Path(args.project).resolve()
    config = load_config(root)
    if not is_local(args.host):
        say(
            f"warning: serving on {args.host}: anyone who can reach this address can read "
            "the preview"
        )
    preview: Path | None = None
    if args.watch:
        preview = Path(tempfile.mkdtemp(prefix="dashsite-preview-"))
        folder = preview
    else:
        folder = config.site_path
        if not (folder / "index.html").is_file():
            raise SiteError(
                "no built site to serve",
                path=display(folder, root),
                hint="run 'dashsite build' first, or use 'dashsite serve --watch'",
            )
    try:
        builder = None
        if preview is not None:
            builder = PreviewBuilder(root, preview)
            _report(builder.full())
        return asyncio.run(_serve(args, config, folder, builder))
    finally:
        if preview is not None:
            shutil.rmtree(preview, ignore_errors=True)


async def _serve(
    args: argparse.Namespace, config: SiteConfig, folder: Path, builder: PreviewBuilder | None
) -> int:
    root = config.root
    batcher = ChangeBatcher()
    if builder is not None:
        ignored = (config.site_path, folder)
        manifest = config.site_path / MANIFEST_FILE  # a build finished: its history, read again
        watcher = FileWatcher(
            [
                (config.dashboards_path, True),
                (root, False),
                (config.incidents_path, True),
                (config.site_path, False),
            ],
            batcher,
            ignore=lambda p: p != manifest and any(p == d or p.is_relative_to(d) for d in ignored),
            poll=args.poll,
        )
    else:
        site = config.site_path
        watcher = FileWatcher([(site.parent, False), (site, True)], batcher, poll=args.poll)
    # The preview draws the index and the latest pages; the built site answers for the rest.
    fallback = config.site_path if builder is not None else None
    server = PreviewServer(folder, args.host, args.port, fallback=fallback)
    server.start()
    watcher.start()
    what = (
        "preview of " + display(config.dashboards_path, root) if builder else display(folder, root)
    )
    print(f"Serving {what} at {server.url} (Ctrl-C to stop)", flush=True)
    if builder is not None:
        say(f"preview folder: {folder}")

    stuck = _Stuck()
    if builder is not None:
        stuck.rebuilt()  # (the first build's collection, too)

    def rebuild_loop() -> None:
        while (batch := batcher.next_batch()) is not None:
            if builder is None:
                if any(
                    p.path == config.site_path
                    or p.path.is_relative_to(config.site_path)
                    or p.path.name == config.site_path.name
                    for p in batch
                ):
                    server.reload()
                continue
            stuck.rebuilding()
            try:
                result = builder.apply(batch)
            except Exception as exc:  # the preview must outlive any one bad save
                say(f"rebuild failed: {type(exc).__name__}: {exc} (save again to retry)")
                continue
            finally:
                stuck.rebuilt()
            if builder.config is not None:  # (its folders, as the configuration names them now)
                watcher.watch(builder.config.incidents_path, True)
                watcher.watch(builder.config.dashboards_path, True)
            if result is not None and (result.written or result.problems):
                _report(result)
                server.reload(result.reason)

    worker = run_in_thread(rebuild_loop, "dashsite-rebuild")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        watcher.stop()
        worker.join(timeout=30)
        await server.stop()
        say("stopped")
    return 0
