"""``python -m dashsite`` runs the command line."""

from .cli import entry

entry()
