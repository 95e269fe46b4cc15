"""Blocking resources, generated from ``wonder_async.resources`` by scripts/gen_sync.py."""
