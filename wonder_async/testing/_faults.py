"""Fault injection for the emulator: by rate or by exact script, per route.

Spec grammar (``wonder emulator --faults SPEC``)::

    SPEC  := GROUP (";" GROUP)*
    GROUP := ROUTE ":" ITEM ("," ITEM)*
    ITEM  := KIND "=" RATE ["@" PARAM]          a fault with probability RATE (0..1)
           | "script=" KIND ["@" PARAM] ("|" KIND ["@" PARAM])*   exact sequence, then none

ROUTE is a route name from :data:`ROUTES` (``customers.upsert``, ``payment_tokens.create``,
``echo`` ...) or ``*`` for every route. PARAM is a duration (``50ms``, ``0.05``, ``2s``).
KIND is one of:

``latency``
    add PARAM of delay (default 50ms), then answer normally
``reset`` (alias ``reset_before``)
    reset the TCP connection before processing: nothing happened
``reset_after``
    process the request, then reset instead of answering: the write happened, the answer
    is lost
``500`` ``502`` ``503``
    answer that status (error envelope) before processing
``429``
    answer 429 with ``Retry-After: PARAM`` seconds (default 1; a fraction such as ``0.2``
    is sent as written, which keeps tests fast) before processing
``truncated``
    process, then answer with the JSON body cut in half (the write happened)
``nonjson``
    answer 200 with an HTML body before processing
``ok``
    (scripts only) no fault for this request

Rules of one route and of ``*`` are drawn independently for each request; the longest drawn
latency applies, plus at most one other fault (the first drawn). A route with a script left
uses the script instead of its rate rules. ``Emulator.stats`` counts requests per route and
faults per kind.

Examples::

    *:reset=0.05,503=0.05,429=0.02,latency=0.1@50ms;payment_tokens.create:500=0.1
    customers.upsert:script=503|429@2|reset_after|ok
"""

from __future__ import annotations

import random
from collections import Counter, deque
from typing import Final

import attrs

__all__ = ["KINDS", "ROUTES", "Fault", "FaultPlan", "parse_faults"]

#: Route names for fault rules and request counters, one per API operation.
ROUTES: Final = (
    "echo",
    "customers.upsert",
    "customers.list",
    "customers.get",
    "customers.get_by_reference",
    "customers.get_by_token",
    "customers.update",
    "payment_tokens.create",
    "payment_tokens.list",
    "payment_tokens.check",
    "payment_tokens.delete",
    "orders.create",
    "orders.get",
    "orders.void",
    "orders.refund",
    "orders.list",
    "payments.create",
)

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
    value = float(text[:-2]) / 1000 if text.endswith("ms") else float(text.removesuffix("s"))
    if not value >= 0:  # also rejects nan
        raise ValueError(f"parameter {text!r} must be a duration >= 0")
    return value


_ALIASES: Final = {"reset_before": "reset"}


def _fault(text: str, rate: float = 1.0) -> Fault:
    kind, _, param = text.strip().partition("@")
    kind = _ALIASES.get(kind, kind)
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
        """Inject ``kind`` on ``route`` (or ``*``) with probability ``rate``.

        :param route: a name from :data:`ROUTES`, or ``*`` for every route.
        :param kind: a fault kind, e.g. ``503``, ``reset_after``, ``latency``, ``429``.
        :param rate: the probability per request, 0 to 1.
        :param param: seconds: the delay of ``latency``, the ``Retry-After`` of ``429``.
        :raises ValueError: for an unknown kind or a rate outside 0..1.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within 0..1")
        if kind == "ok":
            raise ValueError("ok is for scripts only")
        fault = _fault(kind, rate)
        if param is not None:
            fault = attrs.evolve(fault, param=param)
        self.rules.setdefault(route, []).append(fault)

    def script(self, route: str, kinds: list[str]) -> None:
        """Inject exactly these faults (``ok`` for none) on the next requests to ``route``.

        :param route: a name from :data:`ROUTES`, or ``*`` for every route.
        :param kinds: fault kinds in order, e.g. ``["503", "ok", "reset_after"]``.
        :raises ValueError: for an unknown kind.
        """
        self.scripts.setdefault(route, deque()).extend(_fault(k) for k in kinds)

    def clear(self) -> None:
        """Remove every rule and script (counters stay)."""
        self.rules.clear()
        self.scripts.clear()

    def seed(self, value: int) -> None:
        """Make rate-based draws repeatable.

        :param value: the seed of the plan's random generator.
        """
        self.rng.seed(value)

    def draw(self, route: str) -> tuple[float, Fault | None]:
        """Decide the faults of one request to ``route`` (the emulator calls this).

        :param route: the route the request is for.
        :returns: ``(added_latency, terminal_fault)``: seconds to wait, and the fault to
            answer with or ``None``.
        """
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

    :param spec: the text, e.g. ``*:503=0.05,latency=0.1@50ms;echo:script=429@2|ok``.
    :param plan: add to this plan (e.g. ``emu.faults``) instead of a new one.
    :returns: the plan with the spec's rules and scripts added.
    :raises ValueError: naming the part of the spec that is wrong.
    """
    plan = plan if plan is not None else FaultPlan()
    for group in filter(None, (g.strip() for g in spec.split(";"))):
        route, sep, items = group.partition(":")
        route = route.strip()
        if not sep or not route:
            raise ValueError(f"fault group {group!r} must look like ROUTE:KIND=RATE,...")
        if route != "*" and route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; known: *, {', '.join(ROUTES)}")
        for item in filter(None, (i.strip() for i in items.split(","))):
            key, eq, value = item.partition("=")
            try:
                if not eq:
                    raise ValueError("must look like KIND=RATE[@PARAM] or script=KIND|KIND...")
                if key.strip() == "script":
                    plan.script(route, value.split("|"))
                    continue
                rate, _, param = value.partition("@")
                plan.add(route, key.strip(), float(rate), _param(param))
            except ValueError as exc:
                raise ValueError(f"fault item {item!r}: {exc}") from None
    return plan
