"""``python -m dashsite`` runs the command line."""

from dashsite.cli import entry

entry()
