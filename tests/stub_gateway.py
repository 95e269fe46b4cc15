"""An independent stub of the Wonder gateway, from Wonder's own code, for exactly-once tests.

Not our emulator (``wonder_async.testing``): nothing here is imported or copied from it. The
shapes follow what Wonder's shipped clients read (``/work/shared/wonder-clients.md`` §2-§6,
§11) and the API notes (``wonder-api.md`` §3.14a, §3.15); where those leave a choice open, the
stub plays each plausible reading, chosen per instance:

============================  ===============================================================
reading = values (default)    what the stub does
============================  ===============================================================
``errors`` = ``envelope`` |   refusals as HTTP 200 with a non-200 ``code``, ``error_code`` and
``http``                      ``message`` (WOO/OC branch on ``code`` of an HTTP < 400 answer,
                              11.2); not found as ``code`` 404, ``"order not found"`` | HTTP
                              400 / 404 with the same body
``amounts`` = ``number`` |    amounts as JSON numbers (iOS decodes ``as? Double``, 2.3, 3.1) |
``string``                    two-place strings (the docs)
``refunds`` = ``linked`` |    a refund is ``type`` "Refund", positive, with
``negative_unlinked``         ``original_transaction_uuid`` | negative, without it (WOO takes
                              ``abs()`` and never reads the link, 3.2, 3.7)
``charges`` = ``immediate``   a charge is final at once | first ``success`` false with
| ``pending``                 ``is_pending`` true, settling to success after ``pending_checks``
                              Query-order reads of its order or ``pending_seconds`` (3.6)
``duplicate_refund`` =        a second refund of the same amount on a sale within five minutes
``refuse`` | ``allow``        is refused with code ``100701`` (WOO commit aa1eb78, 4.5) | taken
``voids`` = ``marked`` |      a void sets ``allow_void``/``allow_refund`` false, ``voided_at``
``pending``                   and ``payment_data.transaction_state`` "voided" | first only
                              ``void_is_pending`` true (``allow_void`` false), completing as
                              ``marked`` after ``void_checks`` reads (iOS PayResult.swift)
============================  ===============================================================

It never deduplicates: a second ``open_payments`` with a ``payment.uuid`` already used is a
second sale (its transaction uuid gets a ``-2``, ``-3`` ... suffix), and a Direct Payment whose
``order.reference_number`` exists charges that order again -- so a client that re-sends after
an ambiguous failure is caught in :attr:`StubGateway.ledger`. Signatures are not verified
(any are accepted). The order's own ``state`` / ``correspondence_state`` never turn "voided"
for a transaction void (the weakest signal set: the transaction's own fields must do).

Faults: :meth:`StubGateway.lose` makes the next calls of a route *act, then lose the answer*:
``"reset"`` aborts the connection before a byte is written, ``"502"`` answers a proxy's 502.
Every operation that moved money is in :attr:`StubGateway.ledger`, with the fault that hid its
answer.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from aiohttp import web

from tests.hostile_server import _AiohttpServer
from wonder_async._wire import Paths

READINGS: Final[dict[str, tuple[str, ...]]] = {
    "errors": ("envelope", "http"),
    "amounts": ("number", "string"),
    "refunds": ("linked", "negative_unlinked"),
    "charges": ("immediate", "pending"),
    "duplicate_refund": ("refuse", "allow"),
    "voids": ("marked", "pending"),
}
#: The first value of each reading is its default.
DEFAULTS: Final = {name: values[0] for name, values in READINGS.items()}

#: Route names for :meth:`StubGateway.lose` and the ledger.
ROUTES: Final = {
    Paths.ORDERS: "orders",
    Paths.ORDER_CHECK: "check",
    Paths.OPEN_PAYMENTS: "open_payments",
    Paths.ORDER_REFUND: "refund",
    Paths.ORDER_VOID: "void",
}
FAULTS: Final = ("reset", "502", "ok")
#: A token whose charges the issuer declines for good.
DECLINED_TOKEN: Final = "tok_declined"
DUPLICATE_REFUND_WINDOW: Final = 300.0


class Refusal(Exception):
    """A business refusal: answered in the ``errors`` reading's shape."""

    def __init__(self, code: int, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.not_found = not_found


@dataclass
class Event:
    """One thing the gateway did that moved money (or voided it)."""

    kind: str  # "sale" | "refund" | "void"
    order: str  # the order's number
    transaction: str  # the new (or voided) transaction's uuid
    payment_uuid: str | None = None  # the payment.uuid sent (sales)
    sale: str | None = None  # the sale refunded (refunds)
    amount: Decimal | None = None
    lost: str | None = None  # the fault that hid the answer, if any
    at: float = field(default_factory=time.monotonic)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Refusal(100400, f"{name} is invalid")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise Refusal(100400, f"{name} is invalid") from None
    if not amount.is_finite() or amount <= 0:
        raise Refusal(100400, f"{name} is invalid")
    return amount.quantize(Decimal("0.01"))


class StubGateway(_AiohttpServer):
    """The stub gateway on a loopback port, on its own thread (``with StubGateway(...) as g``)."""

    def __init__(
        self,
        *,
        pending_checks: int = 2,
        pending_seconds: float | None = None,
        void_checks: int = 1,
        **readings: str,
    ) -> None:
        super().__init__()
        for name, value in readings.items():
            if name not in READINGS or value not in READINGS[name]:
                raise ValueError(f"unknown reading {name}={value}")
        self.readings = {**DEFAULTS, **readings}
        self.pending_checks = pending_checks
        self.pending_seconds = pending_seconds
        self.void_checks = void_checks
        self.orders: dict[str, dict[str, Any]] = {}  # by number
        self.by_reference: dict[str, str] = {}
        self.ledger: list[Event] = []
        self.calls: list[tuple[str, dict[str, Any], str | None]] = []  # route, body, fault
        self._faults: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> StubGateway:
        super().__enter__()
        return self

    # -- what tests use ------------------------------------------------------------------

    def lose(self, route: str, *kinds: str) -> None:
        """The next ``len(kinds)`` calls of ``route`` act, then lose their answer, one kind
        each (``"reset"`` or ``"502"``; ``"ok"`` answers that call normally)."""
        if route not in ROUTES.values() or any(k not in FAULTS for k in kinds):
            raise ValueError(f"unknown route or fault: {route} {kinds}")
        with self._lock:
            self._faults.setdefault(route, []).extend(kinds)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def events(self, kind: str, **match: Any) -> list[Event]:
        with self._lock:
            return [
                e
                for e in self.ledger
                if e.kind == kind and all(getattr(e, k) == v for k, v in match.items())
            ]

    def count(self, route: str) -> int:
        with self._lock:
            return sum(1 for r, _, _ in self.calls if r == route)

    # -- HTTP ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        route = ROUTES.get(request.path)
        if route is None or request.method != "POST":
            return self._refusal(Refusal(404, f"{request.path} not found", not_found=True))
        try:
            body = json.loads(await request.read() or b"{}")
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return self._refusal(Refusal(100400, "the body is not a JSON object"))
        with self._lock:
            queue = self._faults.get(route)
            fault = queue.pop(0) if queue else None
            fault = None if fault == "ok" else fault
            self.calls.append((route, body, fault))
            try:
                data = getattr(self, "_" + route)(body, fault)
            except Refusal as refusal:
                return self._refusal(refusal)
        if fault == "reset":
            # Acted; the answer is lost: the connection goes before a byte is written.
            assert request.transport is not None
            request.transport.abort()
            return web.Response()  # written to a closed transport: goes nowhere
        if fault == "502":
            return web.Response(status=502, text="<html>502 Bad Gateway</html>")
        return web.json_response({"code": 200, "message": "success", "data": data})

    def _refusal(self, refusal: Refusal) -> web.Response:
        doc: dict[str, Any] = {"code": refusal.code, "message": refusal.message, "data": None}
        if not refusal.not_found:
            doc["error_code"] = str(refusal.code)
        if self.readings["errors"] == "envelope":
            return web.json_response(doc)
        return web.json_response(doc, status=404 if refusal.not_found else 400)

    # -- orders and their rendering ------------------------------------------------------

    def _money(self, amount: Decimal) -> Any:
        return float(amount) if self.readings["amounts"] == "number" else f"{amount:.2f}"

    def _new_order(self, fields: dict[str, Any], customer_uuid: Any) -> dict[str, Any]:
        reference = fields.get("reference_number")
        if not isinstance(reference, str) or not reference:
            raise Refusal(100400, "order.reference_number is required")
        if reference in self.by_reference:
            raise Refusal(100400, "order.reference_number has been used")
        number = f"ORD{len(self.orders) + 1:08d}"
        order = {
            "number": number,
            "reference_number": reference,
            "currency": fields.get("currency") or "HKD",
            "charge_fee": _amount(fields.get("charge_fee"), "order.charge_fee"),
            "customer_uuid": customer_uuid,
            "state": "invoiced",
            "correspondence_state": "unpaid",
            "created_at": _now(),
            "transactions": [],
        }
        self.orders[number] = order
        self.by_reference[reference] = number
        return order

    def _find(self, key: Any) -> dict[str, Any]:
        if not isinstance(key, dict):
            raise Refusal(100400, "order is required")
        number = key.get("number")
        if number is None and key.get("reference_number") is not None:
            number = self.by_reference.get(key["reference_number"])
        order = self.orders.get(number) if isinstance(number, str) else None
        if order is None:
            raise Refusal(404, "order not found", not_found=True)
        return order

    def _render(self, order: dict[str, Any]) -> dict[str, Any]:
        sales = [t for t in order["transactions"] if t["type"] == "Sales" and t["success"]]
        refunds = [t for t in order["transactions"] if t["type"] == "Refund" and t["success"]]
        paid = sum((t["amount"] for t in sales if not t["voided_at"]), Decimal(0))
        refunded = sum((t["amount"] for t in refunds), Decimal(0))
        out = {k: v for k, v in order.items() if k not in ("transactions", "charge_fee")}
        out["charge_fee"] = self._money(order["charge_fee"])
        out["initial_total"] = self._money(order["charge_fee"])
        out["paid_total"] = self._money(paid)
        out["unpaid_total"] = self._money(max(order["charge_fee"] - paid, Decimal(0)))
        if paid >= order["charge_fee"] and paid > 0:
            out["state"], out["correspondence_state"] = "completed", "paid"
            if refunded >= paid:
                out["correspondence_state"] = "refunded"
        out["transactions"] = [self._render_transaction(t) for t in order["transactions"]]
        return out

    def _render_transaction(self, t: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in t.items() if not k.startswith("_")}
        amount = t["amount"]
        if t["type"] == "Refund" and self.readings["refunds"] == "negative_unlinked":
            amount = -amount
        out["amount"] = self._money(amount)
        out["payment_data"] = dict(t["payment_data"])
        return out

    def _order_answer(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"order": self._render(order)}

    def _settle(self, order: dict[str, Any]) -> None:
        """A Query-order read of ``order``: pending charges and voids move on."""
        for t in order["transactions"]:
            if t["is_pending"]:
                t["_reads"] += 1
                late = (
                    self.pending_seconds is not None
                    and time.monotonic() - t["_at"] >= self.pending_seconds
                )
                if t["_reads"] >= self.pending_checks or late:
                    t["success"], t["is_pending"] = True, False
                    t["allow_void"] = t["allow_refund"] = True
                    t["payment_data"]["transaction_state"] = "success"
            if t["void_is_pending"]:
                t["_void_reads"] += 1
                if t["_void_reads"] >= self.void_checks:
                    self._mark_voided(t)

    @staticmethod
    def _mark_voided(t: dict[str, Any]) -> None:
        t["void_is_pending"] = False
        t["allow_void"] = t["allow_refund"] = False
        t["voided_at"] = _now()
        t["payment_data"]["transaction_state"] = "voided"

    # -- routes (called under the lock; ``fault`` is recorded on the ledger) -------------

    def _orders(self, body: dict[str, Any], fault: str | None) -> dict[str, Any]:
        fields = body.get("order")
        if not isinstance(fields, dict):
            raise Refusal(100400, "order is required")
        order = self._new_order(fields, body.get("customer_uuid"))
        answer = self._order_answer(order)
        answer["payment_link"] = f"https://pay.example.invalid/{order['number']}"
        return answer

    def _check(self, body: dict[str, Any], fault: str | None) -> dict[str, Any]:
        if isinstance(body.get("order"), dict):
            order = self._find(body["order"])
        else:
            wanted = (body.get("transaction") or {}).get("uuid")
            found = [
                o
                for o in self.orders.values()
                if any(t["uuid"] == wanted for t in o["transactions"])
            ]
            if not found:
                raise Refusal(404, "transaction not found", not_found=True)
            order = found[0]
        self._settle(order)
        return self._order_answer(order)

    def _open_payments(self, body: dict[str, Any], fault: str | None) -> dict[str, Any]:
        payment = body.get("payment")
        if not isinstance(payment, dict):
            raise Refusal(100400, "payment is required")
        token = payment.get("payment_token")
        if not isinstance(token, dict) or not token.get("token"):
            raise Refusal(100400, "payment.payment_token.token is required")
        amount = _amount(token.get("amount"), "payment.payment_token.amount")
        if isinstance(body.get("order"), dict):
            fields = body["order"]
            known = self.by_reference.get(fields.get("reference_number"))
            order = (
                self.orders[known] if known else self._new_order(fields, body.get("customer_uuid"))
            )
        else:
            order = self._find(
                {"reference_number": body.get("reference_number"), "number": body.get("number")}
            )
        sent = payment.get("uuid") if isinstance(payment.get("uuid"), str) else None
        used = {t["uuid"] for o in self.orders.values() for t in o["transactions"]}
        chosen = sent or str(uuidlib.uuid4())
        n = 1
        while chosen in used:
            n += 1
            chosen = f"{sent}-{n}"
        declined = token["token"] == DECLINED_TOKEN
        pending = not declined and self.readings["charges"] == "pending"
        success = not declined and not pending
        order["transactions"].append(
            {
                "uuid": chosen,
                "type": "Sales",
                "currency": order["currency"],
                "amount": amount,
                "success": success,
                "is_pending": pending,
                "allow_void": success,
                "allow_refund": success,
                "void_is_pending": False,
                "voided_at": None,
                "payment_method": "payment_token",
                "created_at": _now(),
                "payment_data": {
                    "transaction_state": "failed"
                    if declined
                    else "pending"
                    if pending
                    else "success",
                    "last_4_digits": "4242",
                    **({"resp_code": "05", "resp_msg": "Do not honour"} if declined else {}),
                },
                "_reads": 0,
                "_void_reads": 0,
                "_at": time.monotonic(),
            }
        )
        if not declined:
            self.ledger.append(
                Event("sale", order["number"], chosen, payment_uuid=sent, amount=amount, lost=fault)
            )
        return self._order_answer(order)

    def _sale(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        wanted = (body.get("transaction") or {}).get("uuid")
        for t in order["transactions"]:
            if t["uuid"] == wanted and t["type"] == "Sales":
                sale: dict[str, Any] = t
                return sale
        raise Refusal(404, "transaction not found", not_found=True)

    def _refund(self, body: dict[str, Any], fault: str | None) -> dict[str, Any]:
        order = self._find(body.get("order"))
        sale = self._sale(order, body)
        amount = _amount((body.get("refund") or {}).get("amount"), "refund.amount")
        if not sale["success"] or not sale["allow_refund"]:
            raise Refusal(100702, "the transaction cannot be refunded")
        refunds = [
            t
            for t in order["transactions"]
            if t["type"] == "Refund" and t["_sale"] == sale["uuid"] and t["success"]
        ]
        if amount > sale["amount"] - sum((t["amount"] for t in refunds), Decimal(0)):
            raise Refusal(100703, "refund amount exceeds the refundable amount")
        recent = [
            t
            for t in refunds
            if t["amount"] == amount and time.monotonic() - t["_at"] < DUPLICATE_REFUND_WINDOW
        ]
        if recent and self.readings["duplicate_refund"] == "refuse":
            raise Refusal(
                100701,
                "Refund failed, duplicate transaction. Refunds of the same amount are not "
                "allowed within five minutes.",
            )
        refund: dict[str, Any] = {
            "uuid": str(uuidlib.uuid4()),
            "type": "Refund",
            "currency": order["currency"],
            "amount": amount,
            "success": True,
            "is_pending": False,
            "allow_void": False,
            "allow_refund": False,
            "void_is_pending": False,
            "voided_at": None,
            "payment_method": "payment_token",
            "created_at": _now(),
            "payment_data": {"transaction_state": "success"},
            "_sale": sale["uuid"],
            "_reads": 0,
            "_void_reads": 0,
            "_at": time.monotonic(),
        }
        if self.readings["refunds"] == "linked":
            refund["original_transaction_uuid"] = sale["uuid"]
        order["transactions"].append(refund)
        sale["allow_void"] = False  # a partly refunded sale cannot be voided
        left = sale["amount"] - sum((t["amount"] for t in refunds), Decimal(0)) - amount
        sale["allow_refund"] = left > 0
        self.ledger.append(
            Event(
                "refund",
                order["number"],
                refund["uuid"],
                sale=sale["uuid"],
                amount=amount,
                lost=fault,
            )
        )
        return self._order_answer(order)

    def _void(self, body: dict[str, Any], fault: str | None) -> dict[str, Any]:
        order = self._find(body.get("order"))
        if not isinstance(body.get("transaction"), dict):
            if order["transactions"]:
                raise Refusal(100704, "only an unpaid order can be voided")
            order["state"] = order["correspondence_state"] = "voided"
            self.ledger.append(Event("void", order["number"], "", lost=fault))
            return self._order_answer(order)
        sale = self._sale(order, body)
        if not sale["allow_void"]:
            raise Refusal(100705, "the transaction cannot be voided")
        if self.readings["voids"] == "pending":
            sale["void_is_pending"] = True
            sale["allow_void"] = sale["allow_refund"] = False
        else:
            self._mark_voided(sale)
        self.ledger.append(Event("void", order["number"], sale["uuid"], lost=fault))
        return self._order_answer(order)
