"""``dashsite build``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dashsite.core.config import load_config
from dashsite.core.reporter import (
    ConsoleReporter,
    NullReporter,
    Reporter,
    user_output_to_stderr,
)
from dashsite.site.build import BuildOptions, build_site


def run(args: argparse.Namespace) -> int:
    """Build the site and print a summary (or the JSON report)."""
    overrides: dict[str, Any] = {}
    if args.scheduler:
        overrides = {"executor": "dask", "scheduler": args.scheduler}
    elif args.executor:
        overrides = {"executor": args.executor}
        if args.executor == "threads":
            overrides["scheduler"] = ""
    config = load_config(Path(args.project), overrides)
    options = BuildOptions(
        refresh=args.refresh,
        version_id=args.version_id,
        only=frozenset(args.only) if args.only else None,
        strict=args.strict,
        lock_timeout=args.lock_timeout,
        force=args.force,
        jobs=args.jobs,
    )
    reporter: Reporter = ConsoleReporter(quiet=args.quiet)
    if args.json:
        reporter = NullReporter()
    with user_output_to_stderr():  # stdout is the report's (a dashboard may print)
        result = build_site(config, options, reporter)
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    return result.exit_code(args.strict)
