"""What `run.py` records per round, and how it is summarised: tables, per-round ratios,
goals with their min/median/max verdicts, and the CPU budget at c=64.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ASYNC_CONCURRENCY,
    spread,
)

# The ideal bound's terms: the signing ceiling's CPU per signature, raw aiohttp's client CPU
# per request (signing excluded) and the peer's CPU per request, all from the same round.
IDEAL_TERMS = ("ceiling", "aiohttp_nosign")

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


def summarise(configs: list[Config], records: list[Record], cpus: int) -> list[dict[str, Any]]:
    """One row per config: spreads of req/s, CPU and the ratios to its reference and to the
    ideal bound of its round."""
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
        row["ideal"] = row["efficiency"] = row["utilisation"] = None
        if cfg.kind in ("async", "sync") and cfg.metric == "rps":
            fr = ideal_fractions(records, cfg.key, cfg.conc, cpus)
            row["ideal"] = spread(fr) if fr else None
            factors = ideal_factors(records, cfg.key, cfg.conc, cpus)
            if factors:
                row["efficiency"] = spread([f[0] for f in factors])
                row["utilisation"] = spread([f[1] for f in factors])
        rows.append(row)
    return rows


# --- the ideal bound ------------------------------------------------------------------------


def ideal_conc(conc: int) -> int:
    """The raw-aiohttp concurrency whose CPU/request a row at ``conc`` is bounded by: the same
    concurrency for async rows; for ``conc`` blocking threads (one loop, ``conc`` in flight)
    the smallest async concurrency >= ``conc``, else the largest."""
    if conc in ASYNC_CONCURRENCY:
        return conc
    above = [c for c in ASYNC_CONCURRENCY if c >= conc]
    return min(above) if above else max(ASYNC_CONCURRENCY)


def ideal_rounds(records: list[Record], conc: int, cpus: int) -> dict[int, dict[str, float]]:
    """Per round: the ideal bound at ``conc`` and its terms (us per request).

    ``cpus`` cores / (signing ceiling CPU per signature + raw aiohttp client CPU per request +
    peer CPU per request): what a client could do if the hand-over to the signing threads and
    everything but the HTTP exchange and the RSA signature cost nothing.
    """
    sign = {r.round: r for r in records if r.key == "ceiling"}
    raw = records_of(records, "aiohttp_nosign", ideal_conc(conc))
    out = {}
    for rnd in sorted(sign.keys() & raw.keys()):
        peer = raw[rnd].server_us if raw[rnd].server_us == raw[rnd].server_us else 0.0  # NaN
        total = sign[rnd].cpu_us + raw[rnd].cpu_us + peer
        out[rnd] = {
            "sign_us": sign[rnd].cpu_us,
            "client_us": raw[rnd].cpu_us,
            "peer_us": peer,
            "total_us": total,
            "rps": cpus / total * 1e6,
        }
    return out


def ideal_fractions(records: list[Record], key: str, conc: int, cpus: int) -> list[float]:
    """Per round: the row's req/s over that round's ideal bound at its concurrency."""
    bound = ideal_rounds(records, conc, cpus)
    mine = records_of(records, key, conc)
    return [mine[rnd].rps / bound[rnd]["rps"] for rnd in sorted(mine.keys() & bound.keys())]


def ideal_factors(
    records: list[Record], key: str, conc: int, cpus: int
) -> list[tuple[float, float]]:
    """Per round: the fraction of the ideal bound as ``(CPU efficiency, core utilisation)``.

    efficiency = the bound's CPU per request / the row's (client + peer) CPU per request: how
    much of what it spends is the irreducible work (RSA, raw HTTP, peer); a busy machine
    distorts it least. utilisation = the row's CPU per second / the cores: how much of the
    machine the row kept busy (other jobs on the machine take from this one). Their product
    is the fraction of the ideal bound.
    """
    bound = ideal_rounds(records, conc, cpus)
    mine = records_of(records, key, conc)
    out = []
    for rnd in sorted(mine.keys() & bound.keys()):
        r = mine[rnd]
        peer = r.server_us if r.server_us == r.server_us else 0.0
        spent = r.cpu_us + peer
        out.append((bound[rnd]["total_us"] / spent, r.rps * spent / (cpus * 1e6)))
    return out


def ideal_summary(records: list[Record], cpus: int) -> list[dict[str, Any]]:
    """min/median/max of the ideal bound and each of its terms, per async concurrency."""
    out = []
    for c in ASYNC_CONCURRENCY:
        per = list(ideal_rounds(records, c, cpus).values())
        if per:
            row: dict[str, Any] = {"conc": c, "rounds": len(per)}
            for k in ("sign_us", "client_us", "peer_us", "total_us", "rps"):
                row[k] = spread([p[k] for p in per])
            out.append(row)
    return out


def print_ideal(rows: list[dict[str, Any]], cpus: int, table: list[dict[str, Any]]) -> None:
    if not rows:
        return
    print(
        f"\nIdeal bound of this run, per round: {cpus} cores / (signing ceiling CPU per "
        "signature + raw aiohttp client CPU per request + peer CPU per request); min/med/max"
    )
    for r in rows:
        print(
            f"  c={r['conc']:<3} {_fmt3(r['sign_us'], 0)} + {_fmt3(r['client_us'], 0)} + "
            f"{_fmt3(r['peer_us'], 0)} = {_fmt3(r['total_us'], 0)} us/req -> "
            f"{_fmt3(r['rps'], 0)} req/s"
        )
    print(
        "  fraction of it = CPU efficiency (the bound's CPU/req over the row's client+peer "
        "CPU/req) x core utilisation (the row's CPU/s over the cores), min/med/max per round:"
    )
    for row in table:
        if row.get("efficiency") is None or row["conc"] == 1:
            continue
        print(
            f"    {row['label']:<40} {row['conc']:>3}  {_fmt3(row['ideal'])} = "
            f"{_fmt3(row['efficiency'])} x {_fmt3(row['utilisation'])}"
        )


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
        ideal = _fmt3(row["ideal"]) if row.get("ideal") is not None else ""
        print(
            f"{row['label']:<40} {row['conc']:>4}  {med:>9.0f} {f'[{lo:.0f}-{hi:.0f}]':>13}  "
            f"{row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f}  {row['cpu_us'][1]:>10.0f} "
            f"{row['server_us']:>6.0f}  {ideal:>14}  {ratio}"
        )


def goals(records: list[Record], emulator: bool, cpus: int) -> list[dict[str, Any]]:
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
    for name, a, b in (
        (
            "(info) wonder_async / before #26 @ c=16",
            ("wonder_async", 16),
            ("wonder_async_before", 16),
        ),
        (
            "(info) wonder_async / before #26 @ c=64",
            ("wonder_async", 64),
            ("wonder_async_before", 64),
        ),
        ("(info) floor / before #26 @ c=16", ("floor", 16), ("floor_before", 16)),
        ("(info) floor / before #26 @ c=64", ("floor", 64), ("floor_before", 64)),
        (
            "(info) wonder_sync / before #26 @ 8 threads",
            ("wonder_sync", 8),
            ("wonder_sync_before", 8),
        ),
        (
            "(info) wonder_sync / callers signing @ 8",
            ("wonder_sync", 8),
            ("wonder_sync_callers_sign", 8),
        ),
        (
            "(info) wonder_sync / on asyncio's loop @ 8",
            ("wonder_sync", 8),
            ("wonder_sync_asyncio", 8),
        ),
    ):
        rs = ratios(records, a, b)
        if rs:
            s = spread(rs)
            out.append({"goal": name, "ratio": s, "target": 1.0, "op": ">=", "met": s[1] >= 1.0})
    for name, key, conc, target in (
        ("wonder_async >= 0.75x ideal bound @ c=64", "wonder_async", 64, 0.75),
        ("wonder_async >= 0.65x ideal bound @ c=16", "wonder_async", 16, 0.65),
        ("wonder_sync >= 0.65x ideal bound @ 8 threads", "wonder_sync", 8, 0.65),
        ("(info) floor >= 0.75x ideal bound @ c=64", "floor", 64, 0.75),
    ):
        fr = ideal_fractions(records, key, conc, cpus)
        if fr:
            s = spread(fr)
            out.append(
                {"goal": name, "ratio": s, "target": target, "op": ">=", "met": s[1] >= target}
            )
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
    out = {
        "client_us": w["cpu_us"][1],
        "server_us": server_us,
        "sign_us": c["cpu_us"][1],
        "bound_rps": bound,
        "bound_ratio": bound / c["rps"][1],
    }
    raw = by.get(("aiohttp_nosign", 64))
    if raw is not None:  # what wonder_async spends beyond the signature and raw aiohttp's work
        out["raw_us"] = raw["cpu_us"][1]
        out["beyond_us"] = w["cpu_us"][1] - c["cpu_us"][1] - raw["cpu_us"][1]
    return out


def print_budget(budget: dict[str, float], cpus: int) -> None:
    print(
        f"\nCPU budget at c=64: wonder_async {budget['client_us']:.0f} us client + "
        f"{budget['server_us']:.0f} us peer per request; the signing ceiling needs "
        f"{budget['sign_us']:.0f} us per signature. On {cpus} cores that bounds wonder_async "
        f"at ~{budget['bound_rps']:.0f} req/s = {budget['bound_ratio']:.2f}x the ceiling."
    )
    if "beyond_us" in budget:
        print(
            f"  beyond signature ({budget['sign_us']:.0f}) + raw aiohttp "
            f"({budget['raw_us']:.0f}): {budget['beyond_us']:.0f} us client CPU per request "
            "(the SDK's pipeline, the hand-over to the signing threads, GIL contention)"
        )
