"""Blocking twin of :mod:`wonder_async` for code that cannot ``await``."""
