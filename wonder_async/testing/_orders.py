"""Orders of the emulator: create, query, list, and the payment-link page.

An order record keeps its transactions (``transactions[]``, in creation order) and is saved
whole, so the SQLite file holds both and :attr:`State.txn_order` (transaction uuid -> order
number) is rebuilt on restart. Totals and states follow wonder-api.md §2.7 and §3.14a; the
readings where the docs are silent (documented in ``docs/guides/emulator-payments.md``):

* ``initial_total`` is the order's ``charge_fee``; ``paid_total`` sums its successful,
  not voided ``Sales``; ``refunded_total`` its refunds; ``unpaid_total`` is
  ``initial_total - paid_total`` (never below 0). A pre-authorisation is not paid.

The money that moves on an order (charges of saved tokens, voids, refunds) is in
:mod:`._payments`.
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
from ._common import Reject, amount_field, bad, base_url_of, money, text_field
from ._customers import CustomersMixin
from ._query import ORDER_FIELDS, Query, parse_query
from ._webhooks import WebhooksMixin

__all__ = ["PAY_PATH", "ZERO", "OrdersMixin", "amount_of", "random_digits", "utc_now"]

PAY_PATH: Final = "/pay/{number}"
#: Optional order fields kept as sent (after their type check), besides the required ones.
_ORDER_TEXT_FIELDS: Final = (
    ("due_date", 32),
    ("note", 255),
    ("callback_url", 2048),
    ("redirect_url", 2048),
)
_SCALAR: Final = (str, int, float, bool, type(None))
#: Order-record key (never shown) telling that the order was created with a payment link.
_WITH_LINK: Final = "_with_payment_link"
#: The sum of no amounts.
ZERO: Final = Decimal(0)


def utc_now() -> str:
    """Now, as the gateway writes a time: ISO 8601 in UTC, to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def random_digits(count: int) -> str:
    """``count`` random decimal digits (auth codes, RRNs)."""
    return "".join(str(secrets.randbelow(10)) for _ in range(count))


def amount_of(transaction: dict[str, Any]) -> Decimal:
    """A stored transaction's amount."""
    return Decimal(transaction["amount"])


def _line_items(order_in: dict[str, Any]) -> list[dict[str, Any]] | None:
    items = order_in.get("line_items")
    if items is None:
        return None
    if not isinstance(items, list) or len(items) > 500:
        raise bad("order.line_items must be a list of at most 500 objects")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise bad(f"order.line_items[{i}] must be an object")
        for key, value in item.items():
            if not isinstance(value, _SCALAR):
                raise bad(f"order.line_items[{i}].{key} must be a string, number or boolean")
    return items


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
                if t["type"] == "Sales" and t["success"] and not t["voided"]
            ),
            ZERO,
        )
        refunded = sum(
            (amount_of(t) for t in transactions if t["type"] == "Refund" and t["success"]), ZERO
        )
        initial = Decimal(order["charge_fee"])
        return {
            "initial_total": initial,
            "paid_total": paid,
            "unpaid_total": max(initial - paid, ZERO),
            "refunded_total": refunded,
        }

    def _order_view(self, order: dict[str, Any]) -> dict[str, Any]:
        """The order as the gateway shows it: stored fields, totals, transactions."""
        view = {k: v for k, v in order.items() if not k.startswith("_")}
        view.setdefault("tips", "0.00")
        view.update({k: money(v) for k, v in self._totals(order).items()})
        view["transactions"] = [dict(t) for t in order.get("transactions", ())]
        view.setdefault("created_at", None)
        view.setdefault("updated_at", view["created_at"])
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
        live = [t for t in charges if not t["voided"]]
        if totals["refunded_total"] > 0:
            if totals["refunded_total"] >= totals["paid_total"]:
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

    def _commit(self, order: dict[str, Any], action: str | None) -> dict[str, Any]:
        """Settle and save ``order``, send ``action``'s webhook; return the order's view."""
        self._settle(order)
        self.state.save_order(order)
        view = self._order_view(order)
        if action is not None:
            self._notify(action, view)
        return view

    def _order_from(self, body: dict[str, Any]) -> dict[str, Any]:
        """The order named by ``body["order"]`` (``number`` or ``reference_number``), a copy."""
        wanted = rules.order_key(body)
        number = wanted.get("number") or self.state.order_by_ref.get(wanted["reference_number"])
        order = self.state.orders.get(number) if number is not None else None
        if order is None:
            raise Reject(404, 404, "order not found")
        return self._copy(order)

    @staticmethod
    def _copy(order: dict[str, Any]) -> dict[str, Any]:
        return {**order, "transactions": [dict(t) for t in order.get("transactions", ())]}

    def _new_order(self, order_in: Any, customer_uuid: Any) -> dict[str, Any]:
        """Validate create-order fields; return the new (unsaved) order record."""
        order_in = rules.order(rules.obj({"order": order_in}, "order", "order") or {})
        rules.text({"customer_uuid": customer_uuid}, "customer_uuid", "customer_uuid",
                   max_length=MAX_TOKEN_LENGTH)  # fmt: skip
        ref = text_field(order_in, "reference_number", "order.", required=True)
        amount_field(order_in, "charge_fee", "order.", required=True)
        fee: str = order_in["charge_fee"]  # kept as written ("1" stays "1")
        currency = text_field(order_in, "currency", "order.", required=True, max_len=3)
        tips = amount_field(order_in, "tips", "order.", required=False)
        if customer_uuid is not None:
            if not isinstance(customer_uuid, str):
                raise bad("customer_uuid must be a string")
            self._customer_or_404(customer_uuid)
        if ref in self.state.order_by_ref:
            raise bad("order.reference_number: already exists")
        order: dict[str, Any] = {
            "number": f"{len(self.state.orders) + 1:06d}{uuidlib.uuid4().hex[:8]}",
            "reference_number": ref,
            "customer_uuid": customer_uuid,
            "currency": currency,
            "charge_fee": fee,
            "tips": money(tips) if tips is not None else "0.00",
        }
        for key, max_len in _ORDER_TEXT_FIELDS:
            value = text_field(order_in, key, "order.", required=False, max_len=max_len)
            if value is not None:
                order[key] = value
        items = _line_items(order_in)
        if items is not None:
            order["line_items"] = items
        pre_auth = order_in.get("is_only_pre_auth")
        if pre_auth is not None:
            if not isinstance(pre_auth, bool):
                raise bad("order.is_only_pre_auth must be true or false")
            order["is_only_pre_auth"] = pre_auth
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
        if "order" not in body and "transaction" in body:
            uuid = rules.transaction_uuid(body, required=True) or ""
            number = self.state.txn_order.get(uuid)
            if number is None:
                raise Reject(404, 404, "no order has this transaction")
            return {"order": self._order_view(self.state.orders[number])}, 200
        return {"order": self._order_view(self._order_from(body))}, 200

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
        text = html.escape(f"Pay {order['charge_fee']} {order['currency']} for {order['number']}")
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
        now = utc_now()
        order["transactions"].append(
            {
                "uuid": str(uuidlib.uuid4()),
                "type": "Sales",
                "currency": order["currency"],
                "amount": money(self._totals(order)["unpaid_total"]),
                "success": True,
                "is_pending": False,
                "captured": True,
                "allow_void": True,
                "allow_refund": True,
                "void_is_pending": False,
                "voided": False,
                "payment_method": "credit_card",
                "note": "paid through the payment link",
                "original_transaction_uuid": None,
                "created_at": now,
                "payment_data": {
                    "first_6_digits": "424242",
                    "last_4_digits": "4242",
                    "credit_card_type": "visa",
                    "auth_code": random_digits(6),
                    "rrn": random_digits(12),
                    "transaction_state": "success",
                    "token": None,
                },
            }
        )
        self._commit(order, "order.paid")
