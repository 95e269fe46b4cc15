"""Draw throughput vs concurrency from a ``run.py`` results file.

Needs matplotlib, which is not a dependency of the SDK: ``pip install matplotlib``.

    python benchmarks/plot.py [benchmarks/results.json] [-o benchmarks/throughput.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

_STYLE: dict[str, tuple[str, str]] = {  # key -> (colour, marker)
    "floor": ("black", "o"),
    "wonder_async": ("tab:blue", "s"),
    "aiohttp_inline": ("tab:orange", "^"),
    "httpx": ("tab:red", "v"),
    "requests": ("tab:purple", "^"),
    "wonder_sync": ("tab:cyan", "s"),
}


def plot(results: Path, out: Path) -> Path:
    """Write a two-panel PNG (async concurrency, sync threads) and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    doc = json.loads(results.read_text())
    rows: list[dict[str, Any]] = doc["summary"]
    meta = doc["meta"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [3, 2]})
    ceiling = next((r for r in rows if r["key"] == "ceiling"), None)
    for ax, kind, xlabel in (
        (axes[0], "async", "concurrent requests (one event loop)"),
        (axes[1], "sync", "threads"),
    ):
        keys = [k for k in _STYLE if any(r["key"] == k and r["kind"] == kind for r in rows)]
        for key in keys:
            pts = sorted((r["conc"], r["rps"], r["label"]) for r in rows if r["key"] == key)
            xs = [p[0] for p in pts]
            med = [p[1][1] for p in pts]
            lo = [p[1][1] - p[1][0] for p in pts]
            hi = [p[1][2] - p[1][1] for p in pts]
            colour, marker = _STYLE[key]
            ax.errorbar(
                xs, med, yerr=[lo, hi], label=pts[0][2], color=colour, marker=marker, capsize=3
            )
        if ceiling is not None:
            ax.axhline(
                ceiling["rps"][1],
                color="grey",
                linestyle="--",
                label=f"signing ceiling ({ceiling['conc']} threads, no I/O)",
            )
        ax.set_xscale("log", base=2)
        xs_all = sorted({r["conc"] for r in rows if r["kind"] == kind})
        ax.set_xticks(xs_all, [str(x) for x in xs_all])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("signed upserts / s (median, bars: min-max over rounds)")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right" if kind == "sync" else "best")
    axes[0].set_title("async clients")
    axes[1].set_title("blocking clients")
    fig.suptitle(
        f"Signed customer upserts vs a minimal local peer - {meta['cpus']} cores "
        f"({meta['cpu_model']}), Python {meta['python']}, {meta['rounds']} rounds x "
        f"{meta['requests_per_round']} requests",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="?", type=Path, default=HERE / "results.json")
    parser.add_argument("-o", "--out", type=Path, default=HERE / "throughput.png")
    args = parser.parse_args()
    print(plot(args.results, args.out))


if __name__ == "__main__":
    main()
