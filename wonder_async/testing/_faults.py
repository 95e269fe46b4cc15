"""Fault injection for the emulator: by rate or by exact script, per route.

Spec grammar (``wonder emulator --faults SPEC``)::

    SPEC  := GROUP (";" GROUP)*
    GROUP := ROUTE ":" ITEM ("," ITEM)*
    ITEM  := KIND "=" RATE ["@" PARAM]          a fault with probability RATE (0..1)
           | "script=" KIND ["@" PARAM] ("|" KIND ["@" PARAM])*   exact sequence, then none

ROUTE is a route name (``customers.upsert``, ``payment_tokens.create``, ``echo`` ...) or ``*``
for every route. KIND is one of:

=============  ====================================================================
``latency``    add PARAM of delay (``50ms`` or ``0.05``), then answer normally
``reset``      reset the connection before processing (nothing happened)
``reset_after``  process the request, then reset instead of answering (write happened)
``500`` ``502`` ``503``  answer that status before processing
``429``        answer 429 with ``Retry-After: PARAM`` seconds (default 1) before processing
``truncated``  process, then answer with the JSON body cut in half
``nonjson``    answer 200 with an HTML body before processing
``ok``         (scripts only) no fault for this request
=============  ====================================================================

Example: ``*:503=0.05,429=0.02@1,latency=0.1@50ms;payment_tokens.create:reset_after=0.1``.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from typing import Final

import attrs

__all__ = ["KINDS", "Fault", "FaultPlan", "parse_faults"]

KINDS: Final = frozenset(
    {"latency", "reset", "reset_after", "500", "502", "503", "429", "truncated", "nonjson", "ok"}
)


@attrs.frozen
class Fault:
    """One fault: its kind, probability (for rate rules) and parameter (seconds)."""

    kind: str
    rate: float = 1.0
    param: float | None = None


def _param(text: str | None) -> float | None:
    if text is None or text == "":
        return None
    text = text.strip()
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    return float(text.removesuffix("s"))


def _fault(text: str, rate: float = 1.0) -> Fault:
    kind, _, param = text.strip().partition("@")
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    return Fault(kind, rate, _param(param))


@attrs.define
class FaultPlan:
    """Which faults to inject on which route; counts what it injected."""

    rules: dict[str, list[Fault]] = attrs.Factory(dict)
    scripts: dict[str, deque[Fault]] = attrs.Factory(dict)
    injected: Counter[str] = attrs.Factory(Counter)
    rng: random.Random = attrs.Factory(random.Random)

    def add(self, route: str, kind: str, rate: float, param: float | None = None) -> None:
        """Inject ``kind`` on ``route`` (or ``*``) with probability ``rate``."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within 0..1")
        fault = _fault(kind, rate)
        self.rules.setdefault(route, []).append(attrs.evolve(fault, param=param))

    def script(self, route: str, kinds: list[str]) -> None:
        """Inject exactly these faults (``ok`` for none) on the next requests to ``route``."""
        self.scripts.setdefault(route, deque()).extend(_fault(k) for k in kinds)

    def clear(self) -> None:
        """Remove every rule and script (counters stay)."""
        self.rules.clear()
        self.scripts.clear()

    def seed(self, value: int) -> None:
        """Make rate-based draws repeatable."""
        self.rng.seed(value)

    def draw(self, route: str) -> tuple[float, Fault | None]:
        """Return ``(added_latency, terminal_fault)`` for one request to ``route``."""
        for key in (route, "*"):
            queue = self.scripts.get(key)
            if queue:
                fault = queue.popleft()
                self.injected[fault.kind] += fault.kind != "ok"
                if fault.kind == "latency":
                    return fault.param or 0.05, None
                return 0.0, None if fault.kind == "ok" else fault
        latency = 0.0
        chosen: Fault | None = None
        for key in (route, "*"):
            for fault in self.rules.get(key, ()):
                if self.rng.random() >= fault.rate:
                    continue
                if fault.kind == "latency":
                    latency = max(latency, fault.param if fault.param is not None else 0.05)
                    self.injected["latency"] += 1
                elif chosen is None:
                    chosen = fault
                    self.injected[fault.kind] += 1
        return latency, chosen


def parse_faults(spec: str, plan: FaultPlan | None = None) -> FaultPlan:
    """Parse a ``--faults`` spec (see the module docstring) into a plan.

    :raises ValueError: naming the part of the spec that is wrong.
    """
    plan = plan if plan is not None else FaultPlan()
    for group in filter(None, (g.strip() for g in spec.split(";"))):
        route, sep, items = group.partition(":")
        if not sep or not route.strip():
            raise ValueError(f"fault group {group!r} must look like ROUTE:KIND=RATE,...")
        for item in filter(None, (i.strip() for i in items.split(","))):
            key, eq, value = item.partition("=")
            if not eq:
                raise ValueError(f"fault item {item!r} must look like KIND=RATE[@PARAM]")
            if key == "script":
                plan.script(route.strip(), value.split("|"))
                continue
            rate, _, param = value.partition("@")
            try:
                plan.add(route.strip(), key, float(rate), _param(param))
            except ValueError as exc:
                raise ValueError(f"fault item {item!r}: {exc}") from None
    return plan
