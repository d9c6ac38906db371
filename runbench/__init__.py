"""runbench: a read-only security checker for Docker hosts."""

__version__ = "0.1.0"
