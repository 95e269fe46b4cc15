"""Bulk runs over a rows file: lazy CSV/JSONL rows, shards, results file, resume, exit status."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Final

import attrs

from .._client import WonderClient
from ._common import Progress, client, error_record

__all__ = [
    "Finished",
    "Outcome",
    "add_bulk_arguments",
    "count_lines",
    "is_jsonl",
    "load_finished",
    "parse_shard",
    "read_rows",
    "row_digest",
    "run_file",
    "shard_of",
]

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


#: Environment variables ``--shard auto`` reads: Kubernetes sets the first in each pod of an
#: Indexed Job; the second is yours to set to the Job's ``completions`` (or pass --shard-count).
SHARD_INDEX_ENV: Final = "JOB_COMPLETION_INDEX"
SHARD_COUNT_ENV: Final = "WONDER_SHARD_COUNT"


def parse_shard(text: str | None, count: int | None = None) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)``; ``None`` -> ``(0, 1)``; ``"auto"`` -> the Indexed Job's index
    and ``count`` (else ``$WONDER_SHARD_COUNT``).

    :raises ValueError: with a message for the user, for text that is none of these.
    """
    if text is None:
        return 0, 1
    if text == "auto":
        index_text = os.environ.get(SHARD_INDEX_ENV)
        count_text = str(count) if count is not None else os.environ.get(SHARD_COUNT_ENV)
        if index_text is None:
            raise ValueError(
                f"--shard auto needs ${SHARD_INDEX_ENV} (set in a Kubernetes Indexed Job)"
            )
        if count_text is None:
            raise ValueError(f"--shard auto needs --shard-count N or ${SHARD_COUNT_ENV}")
        text = f"{index_text}/{count_text}"
    try:
        index, shards = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError("--shard must look like i/n, e.g. 0/4, or be auto") from None
    if not (shards >= 1 and 0 <= index < shards):
        raise ValueError(f"--shard i/n needs 0 <= i < n (got {index}/{shards})")
    return index, shards


def add_bulk_arguments(parser: argparse.ArgumentParser, *, concurrency: int, what: str) -> None:
    """The options every bulk file command shares (``--file``, ``--out``, ``--shard``, ...)."""
    parser.add_argument("--file", required=True, help="rows.csv (header row) or rows.jsonl")
    parser.add_argument("--concurrency", type=int, default=concurrency, help=f"{what} in flight")
    parser.add_argument(
        "--out", default=None, help="results file (default: rows.results.jsonl for rows.csv)"
    )
    parser.add_argument(
        "--shard",
        default=None,
        help="i/n: only rows whose reference_number hashes to i of n; auto: i from "
        f"${SHARD_INDEX_ENV} (Kubernetes Indexed Job), n from --shard-count or ${SHARD_COUNT_ENV}",
    )
    parser.add_argument("--shard-count", type=int, default=None, help="n for --shard auto")
    parser.add_argument(
        "--resume", action="store_true", help="continue --out: skip rows already finished there"
    )


def row_digest(row: dict[str, Any] | None) -> str:
    """A short fingerprint of a row's content, so ``--resume`` can tell an edited row."""
    text = json.dumps(row, sort_keys=True, ensure_ascii=False) if row is not None else ""
    return f"{zlib.crc32(text.encode()):08x}"


@attrs.define
class Finished:
    """What a results file already says, for ``--resume``.

    ``ok`` holds the lines that succeeded. ``failed`` maps each line that stands failed for
    good (a non-retryable error) to the digest of the row that failed: the row is not sent
    again unless it was edited since, and it still counts against the exit status. Rows that
    failed with a retryable error are in neither, so a resume tries them again. The last
    record of a line wins.
    """

    ok: set[int] = attrs.field(factory=set)
    failed: dict[int, str] = attrs.field(factory=dict)


def load_finished(out: Path) -> Finished:
    """Read a results file (trimming a torn last line left by a kill mid-write)."""
    finished = Finished()
    if not out.exists():
        return finished
    with out.open("rb+") as f:
        data = f.read()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            f.truncate(keep)  # a kill mid-write left half a line; its row is simply redone
        for raw in io.BytesIO(data[:keep]):
            try:
                record = json.loads(raw)
                line = int(record["line"])
            except (ValueError, KeyError, TypeError):
                continue
            if record.get("ok"):
                finished.ok.add(line)
                finished.failed.pop(line, None)
            elif not record.get("retryable", False):
                finished.failed[line] = str(record.get("row_hash", ""))
                finished.ok.discard(line)
            else:
                finished.ok.discard(line)
                finished.failed.pop(line, None)
    return finished


# --- a bulk run over a rows file ------------------------------------------------------------


@attrs.frozen
class Outcome:
    """One row's result as a bulk command reports it: fields for its results line, or error."""

    index: int
    fields: dict[str, Any]
    error: BaseException | None = None


Start = Callable[[WonderClient, Iterator[dict[str, Any]]], AsyncIterator[Outcome]]


async def run_file(args: argparse.Namespace, *, verb: str, start: Start) -> int:
    """Run a bulk command over ``args.file``: shards, ``--resume``, results file, exit status.

    ``start(client, rows)`` runs the rows (read lazily, already sharded and minus the finished
    ones) and yields one :class:`Outcome` per row, ``index`` counting the rows it was given.
    Each row gets one JSON line in the results file: ``line``, ``ok``, the outcome's fields,
    and for a failure ``error``, ``error_type``, ``retryable`` (and ``field``/``rule`` for a
    validation error). Exit status 1 while any row of the file stands failed, counting rows a
    resumed run skipped because they failed for good before; 2 for bad usage.
    """
    path = Path(args.file)
    if not path.exists():  # noqa: ASYNC240 - one stat before the run starts
        print(f"wonder: no such file: {path}", file=sys.stderr)
        return 2
    try:
        shard, shards = parse_shard(args.shard, args.shard_count)
    except ValueError as exc:
        print(f"wonder: {exc}", file=sys.stderr)
        return 2
    out_path = Path(args.out) if args.out else path.with_suffix(".results.jsonl")
    if not args.resume and out_path.exists() and out_path.stat().st_size:
        print(f"wonder: {out_path} exists; pass --resume to continue it", file=sys.stderr)
        return 2
    finished = load_finished(out_path) if args.resume else Finished()
    total = None
    if sys.stderr.isatty():  # a bar with an ETA needs the row count: one fast pass over bytes
        header = 0 if is_jsonl(path) else 1
        total = max(count_lines(path) - header, 0) // shards
    progress = Progress(total)
    ok = failed = failed_before = skipped = 0
    in_flight: dict[int, tuple[int, str]] = {}

    with out_path.open("a", encoding="utf-8") as out:

        def write(record: dict[str, Any]) -> None:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

        def rows() -> Iterator[dict[str, Any]]:
            nonlocal failed, failed_before, skipped
            index = 0
            for line, row, problem in read_rows(path):
                ref = row.get("reference_number") if row else None
                if shards > 1 and shard_of(ref if isinstance(ref, str) else "", shards) != shard:
                    continue
                if line in finished.ok:
                    skipped += 1
                    continue
                digest = row_digest(row)
                if finished.failed.get(line) == digest:
                    skipped += 1
                    failed_before += 1
                    continue
                if row is None:
                    write(
                        {
                            "line": line,
                            "ok": False,
                            "error": problem,
                            "error_type": "ParseError",
                            "retryable": False,
                            "row_hash": digest,
                        }
                    )
                    failed += 1
                    progress.tick(False)
                    continue
                in_flight[index] = (line, digest)
                index += 1
                yield row

        async with client(args) as wonder:
            async for outcome in start(wonder, rows()):
                line, digest = in_flight.pop(outcome.index)
                record: dict[str, Any] = {"line": line}
                if outcome.error is None:
                    record.update(ok=True, **outcome.fields)
                    ok += 1
                else:
                    record.update(ok=False, **outcome.fields, **error_record(outcome.error))
                    record["row_hash"] = digest
                    failed += 1
                write(record)
                progress.tick(outcome.error is None)
    progress.show(final=True)
    summary = {
        verb: ok,
        "failed": failed + failed_before,
        "failed_before": failed_before,
        "skipped": skipped,
        "results": str(out_path),
        "seconds": round(time.monotonic() - progress.started, 2),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        before = (
            f" ({failed_before} of them failed in an earlier run and were not retried: "
            "fix those rows and --resume again)"
            if failed_before
            else ""
        )
        print(
            f"{verb} {ok}, failed {failed + failed_before}, skipped {skipped} (already done)"
            f"{before}; results in {out_path}"
        )
    return 1 if failed or failed_before else 0
