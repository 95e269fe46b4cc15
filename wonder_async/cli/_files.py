"""Bulk input and results files: lazy CSV/JSONL rows, shards, and resuming a results file."""

from __future__ import annotations

import csv
import io
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["count_lines", "is_jsonl", "load_done", "parse_shard", "read_rows", "shard_of"]

_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}


def is_jsonl(path: Path) -> bool:
    """Whether a rows file is read as JSON lines (by suffix); anything else is CSV."""
    return path.suffix.lower() in _JSONL_SUFFIXES


def count_lines(path: Path) -> int:
    """Newlines in a file: one fast pass over bytes, for a progress bar's total."""
    count = 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            count += chunk.count(b"\n")
    return count


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield ``(line_number, row, parse_error)`` lazily from a CSV or JSONL file."""
    if is_jsonl(path):
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, None, f"not valid JSON: {exc.msg}"
                    continue
                if not isinstance(row, dict):
                    yield number, None, "not a JSON object"
                    continue
                yield number, {k: _cell(v) for k, v in row.items()}, None
        return
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            number = reader.line_num
            if None in row:
                yield number, None, "more cells than header columns"
                continue
            yield number, {k: v for k, v in row.items() if v not in (None, "")}, None


def _cell(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


def shard_of(reference_number: str, count: int) -> int:
    """The shard (``0 <= i < count``) a row belongs to: a stable hash of its reference."""
    return zlib.crc32(reference_number.encode()) % count


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)``; ``None`` -> ``(0, 1)``; bad text exits with a message."""
    if text is None:
        return 0, 1
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise SystemExit("--shard must look like i/n, e.g. 0/4") from None
    if not (count >= 1 and 0 <= index < count):
        raise SystemExit("--shard i/n needs 0 <= i < n")
    return index, count


def load_done(out: Path) -> set[int]:
    """Lines already finished in a results file (done, or failed for good); trims a torn tail."""
    done: set[int] = set()
    if not out.exists():
        return done
    with out.open("rb+") as f:
        data = f.read()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            f.truncate(keep)  # a kill mid-write left half a line; its row is simply redone
        for raw in io.BytesIO(data[:keep]):
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if record.get("ok") or not record.get("retryable", False):
                done.add(int(record["line"]))
    return done
