"""Orders of the emulator: create, query, list, and the payment-link page.

An order record keeps its transactions (``transactions[]``, in creation order) and is saved
whole, so the SQLite file holds both and :attr:`State.txn_order` (transaction uuid -> order
number) is rebuilt on restart. Records keep amounts as two-place strings and every fact in
one reading-free form; :meth:`OrdersMixin._order_view` shows them as the chosen readings say
(``amounts``, ``refunds``; :mod:`._readings`). Totals and states follow wonder-api.md §2.7
and §3.14a; the rules where the docs are silent (``docs/decisions.md``,
``docs/guides/emulator-payments.md``):

* ``initial_total`` is the order's ``charge_fee``, or, when ``charge_fee`` is 0 and line items
  are given, the sum of the line items' ``total`` (OpenCart's only create path sends
  ``charge_fee "0.00"`` with the items carrying the amount); a non-zero ``charge_fee`` is the
  total whatever the items say. ``subtotal`` is the same amount, ``initial_tips`` the tips.
* ``paid_total`` sums its successful, not voided ``Sales``; ``unpaid_total`` is
  ``initial_total - paid_total`` (never below 0). A pre-authorisation is not paid. There is
  no order ``refunded_total`` (no Wonder code reads one): each Sales transaction carries
  ``refunded_amount``, the sum refunded of it.
* Record-only keys start with ``_`` and are never shown (``_settles_at``: when a pending
  charge settles; ``_outcome``: how; ``_voids_at``: when a pending void takes effect;
  ``_at``: a refund's POSIX time, for the five-minute duplicate rule).

The money that moves on an order (charges of saved tokens, voids and refunds) is in
:mod:`._payments`; how pending charges and voids settle (``settle_due``) in :mod:`._settle`.
"""

from __future__ import annotations

import datetime as dt
import html
import secrets
import uuid as uuidlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final

from aiohttp import web

from .._models import MAX_TOKEN_LENGTH
from . import _rules as rules
from ._common import DUPLICATE_REFERENCE, bad, base_url_of, money, not_found
from ._customers import CustomersMixin
from ._query import ORDER_FIELDS, Query, parse_query
from ._webhooks import WebhooksMixin

__all__ = [
    "PAY_PATH",
    "ZERO",
    "OrdersMixin",
    "amount_of",
    "is_voided",
    "new_transaction",
    "random_digits",
    "refunded_of",
    "utc_now",
]

PAY_PATH: Final = "/pay/{number}"
#: Optional order fields kept as checked, besides the required ones.
_ORDER_OPTIONAL: Final = (
    "due_date",
    "note",
    "callback_url",
    "redirect_url",
    "is_only_pre_auth",
    "line_items",
)
#: Order-record key (never shown) telling that the order was created with a payment link.
_WITH_LINK: Final = "_with_payment_link"
#: The sum of no amounts.
ZERO: Final = Decimal(0)
#: Amount keys of an order's view, of its line items and of its transactions.
_ORDER_AMOUNTS: Final = (
    "charge_fee",
    "tips",
    "initial_total",
    "initial_tips",
    "subtotal",
    "paid_total",
    "unpaid_total",
)
_ITEM_AMOUNTS: Final = ("price", "total")


def utc_now() -> str:
    """Now, as the gateway writes a time: ISO 8601 in UTC, to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def random_digits(count: int) -> str:
    """``count`` random decimal digits (auth codes, RRNs)."""
    return "".join(str(secrets.randbelow(10)) for _ in range(count))


def amount_of(transaction: dict[str, Any]) -> Decimal:
    """A stored transaction's amount (refunds are stored positive)."""
    return Decimal(transaction["amount"])


def is_voided(transaction: dict[str, Any]) -> bool:
    """Whether a stored transaction was voided (``voided`` is a record of 0.1 databases)."""
    return bool(transaction.get("voided_at") or transaction.get("voided"))


def new_transaction(
    uuid: str, kind: str, currency: str, amount: Decimal, *, payment_method: str
) -> dict[str, Any]:
    """A successful, final transaction record (callers change what differs).

    ``payment_data.resp_code``/``resp_msg`` carry the acquirer's answer, where Wonder's iOS
    SDK reads a decline's reason (DefaultPaymentDelegate.swift:32-41); ``"00"``/``"Approved"``
    for a success is the emulator's own choice.
    """
    sale = kind == "Sales"
    return {
        "uuid": uuid,
        "type": kind,
        "currency": currency,
        "amount": money(amount),
        "success": True,
        "is_pending": False,
        "captured": sale,
        "allow_void": True,
        "allow_refund": sale,
        "void_is_pending": False,
        "voided_at": None,
        "payment_method": payment_method,
        "note": None,
        "original_transaction_uuid": None,
        "created_at": utc_now(),
        "payment_data": {
            "first_6_digits": None,
            "last_4_digits": None,
            "credit_card_type": None,
            "auth_code": random_digits(6),
            "rrn": random_digits(12),
            "transaction_state": "success",
            "resp_code": "00",
            "resp_msg": "Approved",
            "token": None,
        },
    }


def refunded_of(order: dict[str, Any], sale_uuid: str) -> Decimal:
    """The amount refunded so far of the sale ``sale_uuid``."""
    return sum(
        (
            amount_of(t)
            for t in order.get("transactions", ())
            if t["type"] == "Refund"
            and t["success"]
            and t["original_transaction_uuid"] == sale_uuid
        ),
        ZERO,
    )


class OrdersMixin(CustomersMixin, WebhooksMixin):
    """Order records (totals, states, views) and the handlers to create, query and list orders
    and to pay one through its payment-link page."""

    # --- views and state ---------------------------------------------------------------------

    def _totals(self, order: dict[str, Any]) -> dict[str, Decimal]:
        transactions = order.get("transactions", ())
        paid = sum(
            (
                amount_of(t)
                for t in transactions
                if t["type"] == "Sales" and t["success"] and not is_voided(t)
            ),
            ZERO,
        )
        refunded = sum(
            (amount_of(t) for t in transactions if t["type"] == "Refund" and t["success"]), ZERO
        )
        initial = Decimal(order["charge_fee"])
        items = order.get("line_items")
        if initial == 0 and items:
            initial = max(sum((Decimal(i["total"]) for i in items), ZERO), ZERO)
        return {
            "initial_total": initial,
            "paid_total": paid,
            "unpaid_total": max(initial - paid, ZERO),
            "refunded": refunded,
        }

    def _amount(self, amount: Decimal) -> float | str:
        """An amount as the ``amounts`` reading writes it: a JSON number or ``"21.50"``."""
        if self.readings.is_("amounts", "string"):
            return money(amount)
        return float(amount)

    def _order_view(self, order: dict[str, Any]) -> dict[str, Any]:
        """The order as the gateway shows it (per the readings): fields, totals, transactions."""
        view = {k: v for k, v in order.items() if not k.startswith("_")}
        totals = self._totals(order)
        amounts = {
            "charge_fee": Decimal(order["charge_fee"]),
            "tips": Decimal(order.get("tips") or 0),
            "initial_total": totals["initial_total"],
            "initial_tips": Decimal(order.get("tips") or 0),
            "subtotal": totals["initial_total"],
            "paid_total": totals["paid_total"],
            "unpaid_total": totals["unpaid_total"],
        }
        view.update({k: self._amount(amounts[k]) for k in _ORDER_AMOUNTS})
        if order.get("line_items") is not None:
            view["line_items"] = [
                {k: self._amount(Decimal(v)) if k in _ITEM_AMOUNTS else v for k, v in i.items()}
                for i in order["line_items"]
            ]
        view["transactions"] = [
            self._transaction_view(order, t) for t in order.get("transactions", ())
        ]
        view.setdefault("created_at", None)
        view.setdefault("updated_at", view["created_at"])
        return view

    def _transaction_view(self, order: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
        # "voided" was a flag of 0.1 records that no Wonder code shows (voided_at says it).
        view = {k: v for k, v in stored.items() if not k.startswith("_") and k != "voided"}
        amount = amount_of(stored)
        if stored["type"] == "Refund" and self.readings.is_("refunds", "negative_unlinked"):
            amount = -amount
            view["original_transaction_uuid"] = None
        view["amount"] = self._amount(amount)
        if stored["type"] == "Sales":
            view["refunded_amount"] = self._amount(refunded_of(order, stored["uuid"]))
        view["payment_data"] = dict(stored.get("payment_data") or {})
        return view

    def _settle(self, order: dict[str, Any]) -> None:
        """Set ``state``/``correspondence_state`` from the transactions (wonder-api.md §2.7)."""
        order["updated_at"] = utc_now()
        if order["state"] == "voided":  # the order itself was voided
            return
        totals = self._totals(order)
        charges = [
            t
            for t in order.get("transactions", ())
            if t["type"] in {"Sales", "Authorization"} and t["success"]
        ]
        live = [t for t in charges if not is_voided(t)]
        if totals["refunded"] > 0:
            if totals["refunded"] >= totals["paid_total"]:
                pair = ("completed", "refunded")
            else:
                pair = ("in_completed", "partial_paid")
        elif len(live) < len(charges):
            pair = ("in_completed", "partial_paid") if live else ("completed", "voided")
        elif not any(t["type"] == "Sales" for t in live):
            pair = ("invoiced", "unpaid")
        elif totals["paid_total"] < totals["initial_total"]:
            pair = ("in_completed", "partial_paid")
        elif totals["paid_total"] == totals["initial_total"]:
            pair = ("completed", "paid")
        else:
            pair = ("completed", "over_paid")
        order["state"], order["correspondence_state"] = pair

    def _commit(self, order: dict[str, Any], *actions: str) -> dict[str, Any]:
        """Settle and save ``order``, send each action's webhook; return the order's view."""
        self._settle(order)
        self.state.save_order(order)
        if any("_settles_at" in t or "_voids_at" in t for t in order["transactions"]):
            self._pending_orders.add(order["number"])
        view = self._order_view(order)
        for action in actions:
            self._notify(action, view)
        return view

    # --- look-ups --------------------------------------------------------------------------

    def _order_from(self, body: dict[str, Any]) -> dict[str, Any]:
        """The order named by ``body["order"]`` (``number``, ``reference_number`` or both of
        one order), a copy."""
        wanted = rules.order_key(body)
        number = wanted.get("number")
        by_ref = wanted.get("reference_number")
        found = self.state.order_by_ref.get(by_ref) if by_ref is not None else None
        if number is not None and by_ref is not None and found != number:
            if found is None or number not in self.state.orders:
                raise not_found("order", "no order has this number and reference_number")
            raise bad("order.reference_number: names another order than order.number")
        order = self.state.orders.get(number or found or "")
        if order is None:
            raise not_found("order")
        return self._copy(order)

    @staticmethod
    def _copy(order: dict[str, Any]) -> dict[str, Any]:
        return {
            **order,
            "transactions": [
                {**t, "payment_data": dict(t.get("payment_data") or {})}
                for t in order.get("transactions", ())
            ],
        }

    def _new_order(self, order_in: Any, customer_uuid: Any) -> dict[str, Any]:
        """Validate create-order fields; return the new (unsaved) order record."""
        checked = rules.order(rules.obj({"order": order_in}, "order", "order") or {})
        rules.text({"customer_uuid": customer_uuid}, "customer_uuid", "customer_uuid",
                   max_length=MAX_TOKEN_LENGTH)  # fmt: skip
        if customer_uuid is not None:
            self._customer_or_404(customer_uuid)
        ref = checked["reference_number"]
        if ref in self.state.order_by_ref:
            raise bad("order.reference_number: already exists", error_code=DUPLICATE_REFERENCE)
        order: dict[str, Any] = {
            "number": f"{len(self.state.orders) + 1:06d}{uuidlib.uuid4().hex[:8]}",
            "reference_number": ref,
            "customer_uuid": customer_uuid,
            "currency": checked["currency"],
            "charge_fee": checked["charge_fee"],
            "tips": checked.get("tips") or "0.00",
        }
        order.update({k: checked[k] for k in _ORDER_OPTIONAL if k in checked})
        now = utc_now()
        order.update(
            state="invoiced",
            correspondence_state="unpaid",
            created_at=now,
            updated_at=now,
            transactions=[],
        )
        return order

    # --- create and query --------------------------------------------------------------------

    async def _create_order(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        rules.only_keys(body, ["order", "customer_uuid", "app_id"])
        rules.text(body, "app_id", "app_id", max_length=MAX_TOKEN_LENGTH)
        link = rules.enum(request.query, "with_payment_link", "with_payment_link",
                          {"true", "false"}, required=False)  # fmt: skip
        order = self._new_order(body.get("order"), body.get("customer_uuid"))
        with_link = link == "true"
        if with_link:
            order[_WITH_LINK] = True
        view = self._commit(order, "order.created")
        data: dict[str, Any] = {"order": view}
        if with_link:
            data["payment_link"] = base_url_of(request) + PAY_PATH.format(number=order["number"])
        return data, 200

    async def _get_order(self, _request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        rules.only_keys(body, ["order", "transaction"])
        uuid = rules.transaction_uuid(body, required="order" not in body)
        if "order" not in body:
            number = self.state.txn_order.get(uuid or "")
            if number is None:
                raise not_found("order", "no order has this transaction")
            return {"order": self._order_view(self.state.orders[number])}, 200
        order = self._order_from(body)
        if uuid is not None and self.state.txn_order.get(uuid) != order["number"]:
            # OpenCart sends order and transaction together (library :154-172): they must agree.
            raise bad("transaction.uuid: is not a transaction of the order named by order")
        return {"order": self._order_view(order)}, 200

    async def _list_orders(self, request: web.Request, _body: Any) -> tuple[dict[str, Any], int]:
        query = parse_query(request.query.items(), ORDER_FIELDS, params=["customer_uuid"])
        customer_uuid = query.params.get("customer_uuid")
        # Filters see the order as the gateway shows it (totals, transactions); the Query DSL
        # is applied before paging, so offset counts matching orders.
        matching = [
            (o, view)
            for o in self._order_candidates(query)
            if customer_uuid is None or o.get("customer_uuid") == customer_uuid
            for view in (self._order_view(o),)
            if query.matches(view)
        ]
        base = base_url_of(request)
        page = [
            {
                "payment_link": base + PAY_PATH.format(number=o["number"])
                if o.get(_WITH_LINK)
                else None,
                "order": view,
            }
            for o, view in matching[query.offset : query.offset + query.limit]
        ]
        return {"orders": page, "total": len(matching)}, 200

    def _order_candidates(self, query: Query) -> Iterable[dict[str, Any]]:
        """Orders that can match ``query``, in creation order: through the reference index when
        it filters ``reference_number`` by ``_eq``/``_in`` (a billing run's batch look-up),
        else all of them. The full query is still applied to each candidate's view."""
        orders = self.state.orders
        for condition in query.conditions:
            if condition.path == ("reference_number",) and condition.op in {"_eq", "_in"}:
                wanted = condition.value if condition.op == "_in" else {condition.value}
                numbers = {self.state.order_by_ref.get(ref) for ref in wanted} - {None}
                return [o for number, o in orders.items() if number in numbers]
        return orders.values()

    # --- the payment-link page ---------------------------------------------------------------

    async def _pay_page(self, request: web.Request) -> web.Response:
        order = self.state.orders.get(request.match_info["number"])
        if order is None:
            raise web.HTTPNotFound(text="no such order")
        total = money(self._totals(order)["initial_total"])
        text = html.escape(f"Pay {total} {order['currency']} for {order['number']}")
        page = f'<p>{text}</p><form method="post"><button type="submit">Pay</button></form>'
        return web.Response(text=page, content_type="text/html")

    async def _pay(self, request: web.Request) -> web.Response:
        if request.match_info["number"] not in self.state.orders:
            raise web.HTTPNotFound(text="no such order")
        await self.pay_order(request.match_info["number"])
        return web.Response(text="Paid.", content_type="text/html")

    async def pay_order(self, number: str) -> None:
        """Pay what an order still owes, as if its payment link was used with the test card
        ``4242424242424242``, and send ``order.paid``; a paid, refunded or voided order is left
        as it is.

        :param number: Wonder's number of the order.
        :raises KeyError: when there is no such order.
        """
        order = self._copy(self.state.orders[number])
        if order["correspondence_state"] not in {"unpaid", "partial_paid"}:
            return
        if order.get("state") == "voided":
            return
        amount = self._totals(order)["unpaid_total"]
        sale = new_transaction(str(uuidlib.uuid4()), "Sales", order["currency"], amount,
                               payment_method="credit_card")  # fmt: skip
        sale["note"] = "paid through the payment link"
        sale["payment_data"].update(first_6_digits="424242", last_4_digits="4242",
                                    credit_card_type="visa")  # fmt: skip
        order["transactions"].append(sale)
        self._commit(order, "order.paid")
