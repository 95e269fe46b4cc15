"""A hostile gateway on loopback, run through every public operation of both clients (#23).

Each misbehaviour is one test; every operation of ``wonder_async`` and ``wonder_sync`` runs
against it and must end, within its deadline, with a result or a ``WonderError`` — never a raw
exception, a hang or an endless iteration. On top of that, per misbehaviour:

- redirects (301/302/307/308 to a second, recording server): nothing reaches that server, the
  error names the status and the target host, not its path;
- huge answers (200 MB with ``Content-Length`` and chunked): refused with
  ``ResponseValidationError``, RSS bounded;
- wrong types under ``data`` (strings for objects, numbers for lists, lists for objects, uuids
  as lists, ...): ``ResponseValidationError`` naming the path; recovery look-ups of charges,
  voids and refunds end as ``OutcomeUnknownError``; the bulk calls give a per-row error;
- repeating pages, offsets going backwards, empty pages below ``total``: the iteration stops
  with an error; an endless run of pages with a ``total`` ends at the total;
- answers and error envelopes echoing card numbers and CVVs: none in any error, traceback,
  log record (``caplog``) or ``repr``.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import gc
import json
import logging
import re
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest
from aiohttp import web

import wonder_async
import wonder_sync
from tests.conftest import KeyPair
from tests.hostile_server import HostileGateway, Recorder, stream_body
from wonder_async import (
    APIStatusError,
    Card,
    OutcomeUnknownError,
    ResponseValidationError,
    ThreeDS,
    WonderError,
)

pytestmark = pytest.mark.timeout(120)

CARD = "4242424242424242"
ECHO_CARD = "4000000000003220"
SPACED_CARD = "5555 5555 5555 4444"
CVV = "8416"
SECRETS = [CARD, ECHO_CARD, SPACED_CARD.replace(" ", "")]
#: Most items an auto-paginating call may yield here before we call it endless.
CAP = 200
#: Seconds any one call may take (its own deadline is 10 s) before it counts as a hang.
HANG = 15.0
PAGE = 2
_NOISE = re.compile(
    r"127\.0\.0\.1:[0-9]{2,5}|[0-9]+\.[0-9]+|0x[0-9a-fA-F]+|[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}|[0-9A-Za-z+/=_]{16,}"
)

TOKEN: dict[str, Any] = {
    "token": "tok-1",
    "token_type": "CreditCard",
    "state": "success",
    "verify_uuid": "ver-1",
    "credit_card": {"number": "424242******4242", "exp_month": "01", "exp_year": "2030"},
}
CUSTOMER: dict[str, Any] = {
    "uuid": "cus-1",
    "reference_number": "r-1",
    "name": "N",
    "phone": "1",
    "default_payment_token": TOKEN,
}
SALE: dict[str, Any] = {
    "uuid": "txn-1",
    "type": "Sales",
    "amount": "10.00",
    "success": True,
    "allow_void": True,
    "allow_refund": True,
    "payment_data": {"first_6_digits": "424242", "last_4_digits": "4242"},
}
REFUND: dict[str, Any] = {
    "uuid": "txn-2",
    "type": "Refund",
    "amount": "1.00",
    "success": True,
    "original_transaction_uuid": "txn-1",
}
ORDER: dict[str, Any] = {
    "number": "n-1",
    "reference_number": "o-1",
    "state": "paid",
    "correspondence_state": "paid",
    "charge_fee": "10.00",
    "currency": "HKD",
    "transactions": [SALE, REFUND],
}


def valid_data(route: str, body: dict[str, Any]) -> dict[str, Any]:
    """What a well-behaved gateway would answer (shape only; values are fixed)."""
    method, path = route.split(" ", 1)
    tail = path.split("/openapi", 1)[-1]
    if tail == "/echo":
        return {"message": str(body.get("message", ""))}
    if tail.startswith("/customers") and "payment_tokens" in tail:
        if method == "GET":
            return {"payment_tokens": [TOKEN]}
        if method == "DELETE":
            return {}
        return {"payment_token": TOKEN}
    if tail == "/customers" and method == "GET":
        return {"customers": [CUSTOMER]}
    if tail.startswith("/customers"):
        return {"customer": CUSTOMER}
    if tail == "/orders/list":
        return {"orders": [{"order": ORDER, "payment_link": "https://pay.example/1"}], "total": 1}
    if tail == "/orders":
        return {"order": ORDER, "payment_link": "https://pay.example/1"}
    return {"order": ORDER}  # orders/check, void, refund, open_payments


def ok(data: Any) -> web.Response:
    return web.json_response({"code": 200, "message": "success", "data": data})


# --- wrong types: mutations of a valid answer ---------------------------------------------


def _walk(value: Any, change: Callable[[str | None, Any, int], Any], depth: int = 0) -> Any:
    if isinstance(value, dict):
        return {k: change(k, _walk(v, change, depth + 1), depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [change(None, _walk(v, change, depth + 1), depth + 1) for v in value]
    return value


MUTATIONS: dict[str, Callable[[str | None, Any, int], Any]] = {
    "strings_for_objects": lambda k, v, d: "oops" if isinstance(v, dict) else v,
    "numbers_for_lists": lambda k, v, d: 7 if isinstance(v, list) else v,
    "lists_for_objects": lambda k, v, d: [1, "x"] if isinstance(v, dict) else v,
    "uuid_as_list": lambda k, v, d: ["a", "b"] if k in ("uuid", "token", "number") else v,
    "items_as_strings": lambda k, v, d: "item" if k is None else v,
    "objects_for_flags": lambda k, v, d: {"x": 1} if isinstance(v, bool) else v,
    "empty_objects_for_lists": lambda k, v, d: {} if isinstance(v, list) else v,
    "objects_for_leaves": lambda k, v, d: (
        {"x": 1} if d >= 2 and not isinstance(v, dict | list) else v
    ),
}


def mutated(route: str, body: dict[str, Any], mutation: str) -> Any:
    return _walk(copy.deepcopy(valid_data(route, body)), MUTATIONS[mutation])


# --- the operations -----------------------------------------------------------------------


def _three_ds() -> ThreeDS:
    return ThreeDS("https://shop.example/ok", "https://shop.example/fail")


def _card() -> Card:
    year = dt.datetime.now(dt.timezone.utc).year + 2
    return Card(number=CARD, exp_month=1, exp_year=year, holder_name="T", cvv=CVV)


ROW = {"reference_number": "r-1", "name": "N", "phone": "1"}
CHARGE_ROW = {"reference_number": "o-1", "token": "tok-1", "amount": "10.00"}


def operations(w: Any, drain: Callable[[Any], Any]) -> dict[str, Callable[[], Any]]:
    """Every public operation of a client, as zero-argument calls."""
    return {
        "echo": lambda: w.echo("hi"),
        "customers.upsert": lambda: w.customers.upsert(**ROW),
        "customers.get": lambda: w.customers.get("cus-1"),
        "customers.get_by_reference": lambda: w.customers.get_by_reference("r-1"),
        "customers.get_by_token": lambda: w.customers.get_by_token("tok-1"),
        "customers.update": lambda: w.customers.update("cus-1", name="M"),
        "customers.list": lambda: drain(w.customers.list(page_size=PAGE)),
        "customers.upsert_many": lambda: drain(w.customers.upsert_many([ROW, ROW])),
        "payment_tokens.create": lambda: w.payment_tokens.create(
            "cus-1", card=_card(), three_ds=_three_ds()
        ),
        "payment_tokens.check": lambda: w.payment_tokens.check("cus-1", "tok-1"),
        "payment_tokens.wait": lambda: w.payment_tokens.wait(
            "cus-1",
            wonder_async.PaymentToken(token="tok-1", state="pending"),
            timeout=1.0,
            interval=0.2,
        ),
        "payment_tokens.list": lambda: w.payment_tokens.list("cus-1"),
        "payment_tokens.delete": lambda: w.payment_tokens.delete("cus-1", "tok-1"),
        "payment_tokens.check_many": lambda: drain(
            w.payment_tokens.check_many([("cus-1", "tok-1"), ("cus-1", "tok-2")])
        ),
        "payment_tokens.export": lambda: drain(w.payment_tokens.export(page_size=PAGE)),
        "orders.create": lambda: w.orders.create(
            reference_number="o-1", charge_fee="10.00", currency="HKD", with_payment_link=True
        ),
        "orders.get": lambda: w.orders.get(reference_number="o-1"),
        "orders.list": lambda: drain(w.orders.list(page_size=PAGE)),
        "orders.void": lambda: w.orders.void(reference_number="o-1", transaction_uuid="txn-1"),
        "orders.refund": lambda: w.orders.refund(
            reference_number="o-1", transaction_uuid="txn-1", amount="1.00"
        ),
        "payments.create": lambda: w.payments.create(
            reference_number="o-1", token="tok-1", amount="10.00"
        ),
        "payments.create_with_order": lambda: w.payments.create_with_order(
            reference_number="o-1", token="tok-1", amount="10.00", currency="HKD"
        ),
        "payments.create_many": lambda: drain(w.payments.create_many([CHARGE_ROW, CHARGE_ROW])),
    }


class Endless(AssertionError):
    """An auto-paginating call yielded more than :data:`CAP` items."""


async def _adrain(iterator: Any) -> list[Any]:
    items = []
    async for item in iterator:
        items.append(item)
        if len(items) > CAP:
            await iterator.aclose()  # now, while the client is open
            raise Endless
    return items


def _drain(iterator: Iterator[Any]) -> list[Any]:
    items = []
    for item in iterator:
        items.append(item)
        if len(items) > CAP:
            getattr(iterator, "close", lambda: None)()  # now, while the client is open
            raise Endless
    return items


Outcome = tuple[str, Any]  # ("ok", result) | ("error", WonderError)


def _results_errors(result: Any) -> list[Any]:
    """Per-row errors of a bulk result list (each must be a WonderError or None)."""
    if isinstance(result, list):
        return [getattr(r, "error", None) for r in result]
    return []


class Run:
    """Runs every operation of both clients and collects outcomes and what went wrong."""

    def __init__(self, gateway: HostileGateway, key: KeyPair, **options: Any) -> None:
        self.gateway = gateway
        self.key = key
        self.options = {"timeout": 10.0, "attempt_timeout": 5.0, "max_retries": 1, **options}
        self.outcomes: dict[str, Outcome] = {}
        self.problems: list[str] = []
        self.texts: list[str] = []

    def _record(self, name: str, outcome: Outcome) -> None:
        self.outcomes[name] = outcome
        kind, value = outcome
        if kind == "ok":
            self.texts.append(repr(value))
            for err in _results_errors(value):
                if err is not None and not isinstance(err, WonderError):
                    self.problems.append(f"{name}: row error {type(err).__name__}")
                if err is not None:
                    self._texts_of(err)
        else:
            self._texts_of(value)

    def _texts_of(self, exc: BaseException) -> None:
        self.texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
        body = getattr(exc, "body", None)
        if body is not None:
            self.texts.append(json.dumps(body, default=str))

    def _client_args(self) -> dict[str, Any]:
        return {
            "app_id": "app-1",
            "private_key": self.key.private_pem,
            "base_url": self.gateway.url,
            **self.options,
        }

    async def run_async(self, only: set[str] | None = None) -> None:
        async with wonder_async.WonderClient(**self._client_args()) as w:
            for name, call in operations(w, _adrain).items():
                if only is not None and name not in only:
                    continue
                self.gateway.counts.clear()
                try:
                    result = await asyncio.wait_for(call(), HANG)
                except WonderError as exc:
                    self._record(f"async {name}", ("error", exc))
                except Endless:
                    self.problems.append(f"async {name}: pagination did not end")
                except asyncio.TimeoutError:
                    self.problems.append(f"async {name}: no outcome within {HANG:g}s")
                except Exception as exc:
                    self.problems.append(f"async {name}: raw {type(exc).__name__}: {exc}")
                else:
                    self._record(f"async {name}", ("ok", result))

    def run_sync(self, only: set[str] | None = None) -> None:
        with wonder_sync.WonderClient(**self._client_args()) as w:
            for name, call in operations(w, _drain).items():
                if only is not None and name not in only:
                    continue
                self.gateway.counts.clear()
                box: list[Outcome] = []

                def work(call: Callable[[], Any] = call, box: list[Outcome] = box) -> None:
                    try:
                        box.append(("ok", call()))
                    except BaseException as exc:
                        box.append(("raised", exc))

                # A daemon thread, not a pool: a call that hangs must not hang the test too
                # (leaving the ``with`` closes the client, which ends it).
                thread = threading.Thread(target=work, daemon=True)
                thread.start()
                thread.join(HANG)
                if not box:
                    self.problems.append(f"sync {name}: no outcome within {HANG:g}s")
                    return
                kind, value = box[0]
                if kind == "ok":
                    self._record(f"sync {name}", ("ok", value))
                elif isinstance(value, WonderError):
                    self._record(f"sync {name}", ("error", value))
                elif isinstance(value, Endless):
                    self.problems.append(f"sync {name}: pagination did not end")
                else:
                    self.problems.append(f"sync {name}: raw {type(value).__name__}: {value}")

    async def run_both(self, only: set[str] | None = None) -> None:
        await self.run_async(only)
        await asyncio.to_thread(self.run_sync, only)
        assert self.problems == []
        assert len(self.outcomes) == (len(only) if only else 23) * 2

    def errors(self) -> dict[str, WonderError]:
        return {n: v for n, (k, v) in self.outcomes.items() if k == "error"}


@pytest.fixture(scope="module")
def gateway() -> Iterator[HostileGateway]:
    with HostileGateway() as server:
        yield server  # type: ignore[misc]


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    with Recorder() as server:
        yield server  # type: ignore[misc]


def leaks(text: str) -> set[str]:
    found = set()
    flat = text.replace(" ", "").replace("-", "")
    found |= {c for c in SECRETS if c in flat or c in text}
    if CVV in _NOISE.sub("", text):
        found.add("cvv")
    return found


# --- the misbehaviours --------------------------------------------------------------------


@pytest.mark.anyio
async def test_well_behaved_gateway_every_operation_succeeds(
    gateway: HostileGateway, key_pair: KeyPair
) -> None:
    """The baseline: with valid answers every operation of both clients returns a result."""

    async def behave(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
        return ok(valid_data(route, body))

    gateway.set(behave)
    run = Run(gateway, key_pair)
    await run.run_both()
    assert run.errors() == {}


@pytest.mark.anyio
@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_redirects_are_never_followed(
    gateway: HostileGateway, recorder: Recorder, key_pair: KeyPair, status: int
) -> None:
    """A 3xx to another host: an error naming the status and host; that host sees nothing."""

    async def behave(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
        location = f"{recorder.url}/steal/{CARD}?cvv={CVV}"
        return web.Response(status=status, headers={"Location": location})

    gateway.set(behave)
    run = Run(gateway, key_pair)
    await run.run_both()
    assert recorder.seen == []
    errors = run.errors()
    single = {n: e for n, e in errors.items() if not n.endswith(("_many", "export"))}
    assert len(single) >= 30
    for name, exc in single.items():
        if isinstance(exc, OutcomeUnknownError):
            continue
        assert isinstance(exc, APIStatusError), name
        assert exc.status == status, name
        assert f"to host 127.0.0.1:{recorder.port}" in str(exc), name
        assert "/steal" not in str(exc), name
    assert {leak: t[:2000] for t in run.texts for leak in leaks(t)} == {}


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


class PeakRSS:
    """Samples this process's RSS on a thread; ``growth`` is the peak over the start."""

    def __init__(self) -> None:
        gc.collect()
        self.start = _rss()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 1e6


HUGE = 200 * 1000 * 1000


@pytest.mark.anyio
@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
async def test_huge_answers_are_refused_with_bounded_memory(
    gateway: HostileGateway, key_pair: KeyPair, declare_length: bool
) -> None:
    """200 MB answers: every operation fails with ResponseValidationError (or a per-row
    error) and RSS grows by a few MB at most; nothing buffers the body."""

    async def behave(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
        return await stream_body(request, HUGE, declare_length=declare_length)

    gateway.set(behave)
    run = Run(gateway, key_pair, max_response_bytes=1024 * 1024)
    with PeakRSS() as rss:
        await run.run_both()
    # 46 calls and two clients started (threads, pools): far below one 200 MB body.
    assert rss.growth_mb < 32, f"RSS grew by {rss.growth_mb:.1f} MB"
    # With a Content-Length nothing is read at all; chunked, reading stops at the limit.
    said = "announces 200000000 bytes" if declare_length else "was still coming"
    for name, exc in run.errors().items():
        assert isinstance(exc, ResponseValidationError | OutcomeUnknownError), name
        assert said in str(exc) or isinstance(exc, OutcomeUnknownError), name


@pytest.mark.anyio
@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
async def test_default_limit_bounds_memory(
    gateway: HostileGateway, key_pair: KeyPair, declare_length: bool
) -> None:
    """With the default 16 MiB limit a 200 MB answer is refused too; with a Content-Length
    before anything is read, chunked once 16 MiB have come."""

    async def behave(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
        return await stream_body(request, HUGE, declare_length=declare_length)

    gateway.set(behave)
    run = Run(gateway, key_pair)
    with PeakRSS() as rss:
        await run.run_both(only={"customers.get"})
    limit_mb = 4 if declare_length else 40
    assert rss.growth_mb < limit_mb, f"RSS grew by {rss.growth_mb:.1f} MB"
    for exc in run.errors().values():
        assert isinstance(exc, ResponseValidationError)
        assert "max_response_bytes=16777216" in str(exc)
    assert len(run.errors()) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_wrong_types_under_data(
    gateway: HostileGateway, key_pair: KeyPair, mutation: str
) -> None:
    """Wrong types anywhere under data: a result or a WonderError on every operation; where
    the SDK reads the value, a ResponseValidationError naming the path."""

    async def behave(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
        return ok(mutated(route, body, mutation))

    gateway.set(behave)
    run = Run(gateway, key_pair)
    await run.run_both()
    errors = run.errors()
    paths = {
        n: e.path for n, e in errors.items() if isinstance(e, ResponseValidationError)
    }  # fmt: skip
    expected = {
        "customers.list": "data.customers",
        "orders.get": "data.order",
        "orders.list": "data.orders",
        "payment_tokens.export": "data.customers",
    }
    if mutation not in ("numbers_for_lists", "items_as_strings", "empty_objects_for_lists"):
        expected["customers.get"] = "data.customer"  # a customer has no lists
    if mutation == "objects_for_flags":  # only transactions have flags
        expected = {"orders.get": "data.order", "orders.list": "data.orders"}
    for client in ("async", "sync"):
        for op, prefix in expected.items():
            name = f"{client} {op}"
            assert paths.get(name, "").startswith(prefix), (name, errors.get(name))
        charge = errors.get(f"{client} payments.create")
        assert isinstance(charge, ResponseValidationError | OutcomeUnknownError)
        rows = _results_errors(run.outcomes[f"{client} payments.create_many"][1])
        assert rows
        assert all(isinstance(e, WonderError) for e in rows)


def _recovery_behave(failing: str, mutation: str, valid_checks: int) -> Callable[..., Any]:
    async def behave(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
        if route.endswith(failing):
            return web.json_response({"code": 500, "message": "boom", "data": None}, status=500)
        if route.endswith("/orders/check") and n > valid_checks:
            return ok(mutated(route, body, mutation))
        if route.endswith("/orders/list"):
            return web.json_response({"code": 500, "message": "down", "data": None}, status=500)
        return ok(valid_data(route, body))

    return behave


@pytest.mark.anyio
@pytest.mark.parametrize("mutation", ["strings_for_objects", "uuid_as_list", "numbers_for_lists"])
async def test_recovery_lookups_that_cannot_be_read_end_as_outcome_unknown(
    gateway: HostileGateway, key_pair: KeyPair, mutation: str
) -> None:
    """A charge, void or refund fails ambiguously (500) and its look-up answers wrong types:
    OutcomeUnknownError (with the charge's payment_uuid), per row in create_many."""
    cases = [
        ("/open_payments", 0, {"payments.create", "payments.create_with_order"}),
        ("/open_payments", 0, {"payments.create_many"}),
        ("/orders/void", 1, {"orders.void"}),  # void and refund read the order first
        ("/orders/refund", 1, {"orders.refund"}),
    ]
    for failing, valid_checks, ops in cases:
        gateway.set(_recovery_behave(failing, mutation, valid_checks))
        run = Run(gateway, key_pair, max_retries=2)
        await run.run_both(only=ops)
        for name, (kind, value) in run.outcomes.items():
            errors = _results_errors(value) if kind == "ok" else [value]
            assert errors, name
            for exc in errors:
                assert isinstance(exc, OutcomeUnknownError), (name, exc)
                assert isinstance(exc.__cause__, ResponseValidationError), name
                if "payments" in name:
                    assert exc.payment_uuid, name


def _paged(route: str, body: dict[str, Any], items: list[Any], **extra: Any) -> dict[str, Any]:
    key = "orders" if "orders" in route else "customers"
    return {key: items, **extra}


def _item(route: str, i: int) -> Any:
    if "orders" in route:
        return {"order": {**ORDER, "number": f"n-{i}"}}
    return {**CUSTOMER, "uuid": f"cus-{i}"}


def _offset(request: web.Request) -> int:
    return int(request.query.get("offset", "0"))


def _list_route(route: str) -> bool:
    return route.startswith("GET") and route.endswith(("/customers", "/orders/list"))


PAGING: dict[str, Callable[[web.Request, str], dict[str, Any]]] = {
    # The same full page whatever the offset, no total.
    "same_page_forever": lambda r, route: _paged(route, {}, [_item(route, 0), _item(route, 1)]),
    # New items, but the echoed offset goes backwards.
    "offset_backwards": lambda r, route: _paged(
        route,
        {},
        [_item(route, _offset(r)), _item(route, _offset(r) + 1)],
        offset=max(_offset(r) - 1, 0),
    ),
    # More items than the page asked for (a gateway ignoring ``limit``).
    "more_than_asked": lambda r, route: _paged(
        route, {}, [_item(route, _offset(r) + i) for i in range(5)]
    ),
    # A full first page, then empty pages although total says there are more.
    "empty_below_total": lambda r, route: _paged(
        route,
        {},
        [_item(route, 0), _item(route, 1)] if _offset(r) == 0 else [],
        total=50,
    ),
}


@pytest.mark.anyio
@pytest.mark.parametrize("misbehaviour", list(PAGING))
async def test_pagination_that_makes_no_progress_stops(
    gateway: HostileGateway, key_pair: KeyPair, misbehaviour: str
) -> None:
    """customers.list, orders.list and payment_tokens.export end with an error naming the
    problem instead of iterating without end."""

    async def behave(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
        if _list_route(route):
            return ok(PAGING[misbehaviour](request, route))
        return ok(valid_data(route, body))

    gateway.set(behave)
    run = Run(gateway, key_pair)
    ops = {"customers.list", "orders.list", "payment_tokens.export"}
    await run.run_both(only=ops)
    errors = run.errors()
    assert set(errors) == {f"{c} {op}" for c in ("async", "sync") for op in ops}
    for name, exc in errors.items():
        assert isinstance(exc, ResponseValidationError), name
        assert "paging" in str(exc), name
        assert "no progress" in str(exc) or "for a page of 2" in str(exc), name


@pytest.mark.anyio
async def test_pagination_trusts_total(gateway: HostileGateway, key_pair: KeyPair) -> None:
    """Endless full pages of new items, with total 5: the iteration ends at the total."""

    async def behave(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
        if _list_route(route):
            o = _offset(request)
            return ok(_paged(route, body, [_item(route, o), _item(route, o + 1)], total=5))
        return ok(valid_data(route, body))

    gateway.set(behave)
    run = Run(gateway, key_pair)
    await run.run_both(only={"customers.list", "orders.list", "payment_tokens.export"})
    for name, (kind, value) in run.outcomes.items():
        assert kind == "ok", name
        assert len(value) == 6, name  # three pages of two: offset 6 passes total 5


def _echo_body(raw: bytes) -> str:
    text = raw.decode(errors="replace")
    return (
        f"invalid request {text} card {ECHO_CARD} / {SPACED_CARD}, cvv={CVV}, "
        f'"cvc": "{CVV}", security_code: {CVV}'
    )


def _echoing(status: int) -> Callable[..., Any]:
    async def behave(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
        raw = await request.read()
        message = _echo_body(raw)
        envelope = {
            "code": "E100001",
            "message": message,
            "error_message": message,
            "data": {"request": body, "card": {"number": ECHO_CARD, "cvv": CVV}},
        }
        return web.json_response(envelope, status=status)

    return behave


async def _unmasked(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
    data = json.loads(json.dumps(valid_data(route, body)))
    echo = f"card {ECHO_CARD} cvv {CVV}"

    def change(k: str | None, v: Any, d: int) -> Any:
        if k == "credit_card":
            return {**v, "number": CARD, "cvv": CVV}
        if k in ("name", "note", "state", "error_msg", "failure_message", "message", "phone"):
            return echo
        return v

    return ok(_walk(data, change))


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["400_echo", "500_echo", "200_unmasked"])
async def test_echoed_card_data_never_shows(
    gateway: HostileGateway, key_pair: KeyPair, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    """Error envelopes echoing the request (with the card number and CVV of
    payment_tokens.create), answers with an unmasked credit_card.number: no card number or
    CVV in any error, traceback, error body, log record or repr."""
    caplog.set_level(logging.DEBUG, logger="wonder")
    behave = {"400_echo": _echoing(400), "500_echo": _echoing(500), "200_unmasked": _unmasked}
    gateway.set(behave[kind])
    run = Run(gateway, key_pair, max_retries=1)
    await run.run_both()
    texts = run.texts + [r.getMessage() for r in caplog.records]
    assert len(caplog.records) >= 40
    if kind != "200_unmasked":
        assert len(run.errors()) >= 30
        assert any("424242******4242" in t for t in texts)  # the echo was there, masked
    else:
        assert any("424242******4242" in t for t in texts)
        for client in ("async", "sync"):  # an unmasked number never reaches the model
            _kind, token = run.outcomes[f"{client} payment_tokens.check"]
            assert token.credit_card.number == "424242******4242"
    found = {leak: t[:3000] for t in texts for leak in leaks(t)}
    assert found == {}


@pytest.mark.anyio
async def test_answers_of_countless_tiny_values_are_not_decoded(
    gateway: HostileGateway, key_pair: KeyPair
) -> None:
    """1.5 MB of ``{}`` (under the size limit, but 1.7 million objects once decoded): refused
    before decoding, on every operation, with memory bounded."""
    tiny = b",".join([b"{}"] * 500_000)

    async def behave(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
        key = next(iter(valid_data(route, body)), "x")
        raw = b'{"code":200,"message":"success","data":{"%s":[%s]}}' % (key.encode(), tiny)
        return web.Response(body=raw, content_type="application/json")

    gateway.set(behave)
    run = Run(gateway, key_pair)
    with PeakRSS() as rss:
        await run.run_both()
    assert rss.growth_mb < 32, f"RSS grew by {rss.growth_mb:.1f} MB"
    single = {n: e for n, e in run.errors().items() if not n.endswith(("_many", "export"))}
    assert len(single) >= 30
    for name, exc in single.items():
        if not isinstance(exc, OutcomeUnknownError):
            assert isinstance(exc, ResponseValidationError), name
            assert "JSON values" in str(exc), name
