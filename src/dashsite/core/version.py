"""The package's version, in the bottom layer so any module can name it."""

VERSION = "0.1.0"
