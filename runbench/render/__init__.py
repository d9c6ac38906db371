"""Renderers: pure functions of a Report. Only terminal.py imports rich."""
