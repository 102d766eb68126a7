"""Limits the layers share."""

MAX_VALUES = 32
"""Numbers per log record (the first found, depth first): enough for trends, bounded."""
