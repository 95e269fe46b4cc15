"""What `run.py` records per round, and how it is summarised: tables, per-round ratios,
goals with their min/median/max verdicts, and the CPU budget at c=64.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ASYNC_CONCURRENCY,
    spread,
)

# --- records -------------------------------------------------------------------------------


@dataclass
class Config:
    key: str  # contender id, e.g. "wonder_async"
    label: str
    kind: str  # "async" | "sync" | "sign"
    conc: int
    ref: str | None  # contender id of this row's reference at the same concurrency
    metric: str = "rps"  # what the ratio compares: "rps" (higher is better) or "cpu"
    section: str = ""


@dataclass
class Record:
    key: str
    conc: int
    round: int
    n: int
    wall: float
    cpu: float  # client process CPU seconds (all threads)
    p50: float
    p99: float
    server_cpu: float  # the peer process's CPU seconds over the same round

    @property
    def rps(self) -> float:
        return self.n / self.wall

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.n * 1e6

    @property
    def server_us(self) -> float:
        return self.server_cpu / self.n * 1e6


# --- summary --------------------------------------------------------------------------------


def records_of(records: list[Record], key: str, conc: int) -> dict[int, Record]:
    return {r.round: r for r in records if r.key == key and r.conc == conc}


def ratios(
    records: list[Record], a: tuple[str, int], b: tuple[str, int], metric: str = "rps"
) -> list[float]:
    """Per-round ratio of ``a`` to ``b`` (throughput or CPU/request), rounds where both ran."""
    ra, rb = records_of(records, *a), records_of(records, *b)
    out = []
    for rnd in sorted(ra.keys() & rb.keys()):
        if metric == "rps":
            out.append(ra[rnd].rps / rb[rnd].rps)
        else:
            out.append(ra[rnd].cpu_us / rb[rnd].cpu_us)
    return out


def _fmt3(v: tuple[float, float, float], digits: int = 2) -> str:
    return f"{v[0]:.{digits}f}/{v[1]:.{digits}f}/{v[2]:.{digits}f}"


def summarise(configs: list[Config], records: list[Record]) -> list[dict[str, Any]]:
    rows = []
    for cfg in configs:
        recs = list(records_of(records, cfg.key, cfg.conc).values())
        if not recs:
            continue
        row: dict[str, Any] = {
            "key": cfg.key,
            "label": cfg.label,
            "kind": cfg.kind,
            "conc": cfg.conc,
            "section": cfg.section,
            "rounds": len(recs),
            "rps": spread([r.rps for r in recs]),
            "p50_ms": spread([r.p50 * 1e3 for r in recs])[1],
            "p99_ms": spread([r.p99 * 1e3 for r in recs])[1],
            "cpu_us": spread([r.cpu_us for r in recs]),
            "server_us": spread([r.server_us for r in recs])[1],
            "ref": cfg.ref,
            "metric": cfg.metric,
            "ratio": None,
        }
        if cfg.ref is not None:
            rs = ratios(records, (cfg.key, cfg.conc), (cfg.ref, cfg.conc), cfg.metric)
            row["ratio"] = spread(rs) if rs else None
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'contender':<40} {'conc':>4}  {'req/s med':>9} {'[min-max]':>13}  {'p50 ms':>7} "
        f"{'p99 ms':>7}  {'CPU us/req':>10} {'server':>6}  "
        f"{'vs reference (per round) min/med/max':<36}"
    )
    print(head)
    print("-" * len(head))
    section = None
    for row in rows:
        if row["section"] != section:
            section = row["section"]
            print(f"[{section}]")
        lo, med, hi = row["rps"]
        ratio = ""
        if row["ratio"] is not None:
            what = "x req/s" if row["metric"] == "rps" else "x CPU/req"
            ratio = f"{_fmt3(row['ratio'])} {what} of {row['ref']}"
        print(
            f"{row['label']:<40} {row['conc']:>4}  {med:>9.0f} {f'[{lo:.0f}-{hi:.0f}]':>13}  "
            f"{row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f}  {row['cpu_us'][1]:>10.0f} "
            f"{row['server_us']:>6.0f}  {ratio}"
        )


def goals(records: list[Record], emulator: bool) -> list[dict[str, Any]]:
    cpus = os.cpu_count() or 1
    checks: list[tuple[str, tuple[str, int], tuple[str, int], str, float, str]] = []
    for c in ASYNC_CONCURRENCY:
        checks.append(
            (
                f"wonder_async >= 0.95x floor @ c={c}",
                ("wonder_async", c),
                ("floor", c),
                "rps",
                0.95,
                ">=",
            )
        )
    checks += [
        (
            "wonder_async >= 1.15x inline-signing aiohttp @ c=64",
            ("wonder_async", 64),
            ("aiohttp_inline", 64),
            "rps",
            1.15,
            ">=",
        ),
        (
            "wonder_async >= 3x httpx+signing @ c=64",
            ("wonder_async", 64),
            ("httpx", 64),
            "rps",
            3.0,
            ">=",
        ),
        (
            "wonder_async @ c=64 >= 0.85x signing ceiling",
            ("wonder_async", 64),
            ("ceiling", cpus),
            "rps",
            0.85,
            ">=",
        ),
    ]
    if not emulator:
        for c in ASYNC_CONCURRENCY:
            checks.append(
                (
                    f"CPU/req ex-signing <= 1.25x raw aiohttp @ c={c}",
                    ("wonder_async_nosign", c),
                    ("aiohttp_nosign", c),
                    "cpu",
                    1.25,
                    "<=",
                )
            )
        for c in ASYNC_CONCURRENCY[1:]:
            checks.append(
                (
                    f"(info) CPU/req ex-signing <= 1.25x raw aiohttp + hop @ c={c}",
                    ("wonder_async_nosign", c),
                    ("aiohttp_nosign_hop", c),
                    "cpu",
                    1.25,
                    "<=",
                )
            )
    checks += [
        (
            "wonder_sync >= 1.2x requests+signing @ 1 thread",
            ("wonder_sync", 1),
            ("requests", 1),
            "rps",
            1.2,
            ">=",
        ),
        (
            "wonder_sync >= 1.8x requests+signing @ 8 threads",
            ("wonder_sync", 8),
            ("requests", 8),
            "rps",
            1.8,
            ">=",
        ),
    ]
    out = []
    for name, a, b, metric, target, op in checks:
        rs = ratios(records, a, b, metric)
        if not rs:
            continue
        s = spread(rs)
        met = s[1] >= target if op == ">=" else s[1] <= target
        out.append({"goal": name, "ratio": s, "target": target, "op": op, "met": met})
    return out


def print_goals(rows: list[dict[str, Any]]) -> None:
    print("\nGoals (verdict on the median of per-round ratios; min/med/max shown)")
    for g in rows:
        verdict = "MET   " if g["met"] else "MISSED"
        print(f"  {verdict} {g['goal']:<66} {_fmt3(g['ratio'])}")


def cpu_budget(rows: list[dict[str, Any]], cpus: int) -> dict[str, float] | None:
    """What the measured CPU costs allow at best: ``cpus`` cores / CPU per request."""
    by = {(r["key"], r["conc"]): r for r in rows}
    w, c = by.get(("wonder_async", 64)), by.get(("ceiling", cpus))
    if w is None or c is None:
        return None
    server_us = w["server_us"] if w["server_us"] == w["server_us"] else 0.0  # NaN: no psutil
    per_req = w["cpu_us"][1] + server_us
    bound = cpus / per_req * 1e6
    return {
        "client_us": w["cpu_us"][1],
        "server_us": server_us,
        "sign_us": c["cpu_us"][1],
        "bound_rps": bound,
        "bound_ratio": bound / c["rps"][1],
    }
