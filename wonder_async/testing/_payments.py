"""Money moving on the emulator's orders: charges of saved tokens, voids and refunds.

The readings where the docs are silent (documented in ``docs/guides/emulator-payments.md``):

* A charge's transaction uuid is the ``payment.uuid`` sent, else a new uuid4. A
  ``payment.uuid`` seen before (success or decline) answers 200 with the order that holds
  that first transaction and charges nothing -- unless ``dedupe_charges`` is off
  (``Emulator(dedupe_charges=False)``, ``wonder emulator --no-dedupe-charges``): then it is
  charged again, as by a gateway that ignores the uuid, so a client that sends a charge twice
  shows two transactions in the ledger.
* A declined charge is recorded (``success: false``) and answered HTTP 400 with Wonder's code
  and the order in ``data``.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any, Final

from aiohttp import web

from . import _rules as rules
from ._common import Reject, amount_field, bad, enum_field, money, text_field
from ._customers import CHARGE_DECLINE
from ._orders import ZERO, OrdersMixin, amount_of, random_digits, utc_now

__all__ = ["PaymentsMixin"]

CONSUME_MODES: Final = frozenset({"sales", "pre_authorize"})
ENTRY_TYPES: Final = frozenset({"mit", "cit"})


class PaymentsMixin(OrdersMixin):
    """Handlers for charges of saved tokens, voids and refunds."""

    def _transaction_in(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """The transaction of ``order`` named by ``body["transaction"]["uuid"]``."""
        uuid = rules.transaction_uuid(body, required=True)
        for transaction in order.get("transactions", ()):
            if transaction["uuid"] == uuid:
                result: dict[str, Any] = transaction
                return result
        raise Reject(404, 404, f"transaction {uuid} not found in order {order['number']}")

    # --- charge a saved token ----------------------------------------------------------------

    async def _open_payment(self, _request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        rules.only_keys(body, ["reference_number", "number", "order", "customer_uuid", "payment"])
        rules.payment(body)
        for key in ("reference_number", "number"):
            rules.text(body, key, key)
        payment = body["payment"]
        wanted = payment.get("payment_token")
        if not isinstance(wanted, dict):
            raise bad("payment.payment_token is required")
        prefix = "payment.payment_token."
        amount = amount_field(wanted, "amount", prefix, required=True, positive=True)
        assert amount is not None
        token_id = text_field(wanted, "token", prefix, required=True, max_len=64)
        mode = enum_field(wanted, "consume_mode", prefix, CONSUME_MODES)
        enum_field(wanted, "entry_type", prefix, ENTRY_TYPES)
        payment_uuid = text_field(payment, "uuid", "payment.", required=False, max_len=64)
        if (
            self.dedupe_charges
            and payment_uuid is not None
            and payment_uuid in self.state.txn_order
        ):
            # Seen before: the first charge stands, nothing is charged again.
            first = self.state.orders[self.state.txn_order[payment_uuid]]
            return {"order": self._order_view(first)}, 200

        given = [key for key in ("reference_number", "number", "order") if key in body]
        if len(given) != 1:
            raise bad("give exactly one of reference_number, number or order")
        created = given == ["order"]
        if created:
            order = self._new_order(body["order"], body.get("customer_uuid"))
        else:
            key = given[0]
            found = text_field(body, key, "", required=True, max_len=255)
            number = found if key == "number" else self.state.order_by_ref.get(found)
            stored = self.state.orders.get(number) if number is not None else None
            if stored is None:
                raise Reject(404, 404, f"order with {key} {found!r} not found")
            order = self._copy(stored)

        token = self.state.tokens.get(token_id)
        if token is None:
            raise bad(f"{prefix}token is not a payment token (never bound, or deleted)")
        if token["state"] != "success":
            raise bad(f"{prefix}token is {token['state']}; only a bound (success) token can pay")
        owner = order.get("customer_uuid")
        if owner is not None and token["customer_uuid"] != owner:
            raise bad(f"{prefix}token belongs to another customer than the order's")
        if order["state"] == "voided" or order["correspondence_state"] == "voided":
            raise bad(f"order {order['number']} is voided; it cannot be paid")
        if order["correspondence_state"] == "refunded":
            raise bad(f"order {order['number']} is fully refunded; it cannot be paid")

        if created:
            self._commit(order, "order.created")
        decline = token.get(CHARGE_DECLINE)
        card = token["credit_card"]
        transaction: dict[str, Any] = {
            "uuid": payment_uuid or str(uuidlib.uuid4()),
            "type": "Sales" if mode == "sales" else "Authorization",
            "currency": order["currency"],
            "amount": money(amount),
            "success": decline is None,
            "is_pending": False,
            "captured": mode == "sales" and decline is None,
            "allow_void": decline is None,
            "allow_refund": mode == "sales" and decline is None,
            "void_is_pending": False,
            "voided": False,
            "payment_method": "payment_token",
            "note": None,
            "original_transaction_uuid": None,
            "created_at": utc_now(),
            "payment_data": {
                "first_6_digits": card["number"][:6],
                "last_4_digits": card["number"][-4:],
                "credit_card_type": card["brand"],
                "auth_code": random_digits(6) if decline is None else None,
                "rrn": random_digits(12),
                "transaction_state": "success" if decline is None else "failed",
                "token": token_id,
            },
        }
        if decline is not None:
            transaction.update(failure_code=decline[0], failure_message=decline[1])
        order["transactions"].append(transaction)
        if decline is not None:
            view = self._commit(order, "order.payment_failure")
            raise Reject(400, decline[0], decline[1], data={"order": view})
        return {"order": self._commit(order, "order.paid" if mode == "sales" else None)}, 200

    # --- void and refund ---------------------------------------------------------------------

    async def _void(self, _request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        rules.only_keys(body, ["order", "transaction"])
        order = self._order_from(body)
        if "transaction" not in body:
            if order["state"] == "voided":
                raise bad(f"order {order['number']} is already voided")
            if order["correspondence_state"] != "unpaid":
                raise bad(
                    f"order {order['number']} is {order['correspondence_state']}; only an unpaid "
                    "order can be voided (void or refund its transactions instead)"
                )
            for transaction in order["transactions"]:  # release pre-authorisations
                if transaction["success"] and not transaction["voided"]:
                    self._mark_voided(transaction)
            order["state"] = order["correspondence_state"] = "voided"
            return {"order": self._commit(order, "order.voided")}, 200
        transaction = self._transaction_in(order, body)
        if transaction["voided"]:
            raise bad(f"transaction.uuid {transaction['uuid']} is already voided")
        if not transaction["allow_void"]:
            raise bad(
                f"transaction.uuid {transaction['uuid']} cannot be voided (only a successful "
                "Sales or Authorization without refunds can)"
            )
        self._mark_voided(transaction)
        return {"order": self._commit(order, "transaction.voided")}, 200

    @staticmethod
    def _mark_voided(transaction: dict[str, Any]) -> None:
        transaction.update(voided=True, allow_void=False, allow_refund=False)
        transaction["payment_data"] = {**transaction["payment_data"], "transaction_state": "voided"}

    async def _refund(self, _request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        rules.only_keys(body, ["order", "transaction", "refund"])
        refund_in = rules.obj(body, "refund", "refund") or {}
        rules.only_keys(refund_in, ["amount"], "refund.")
        rules.amount(refund_in, "amount", "refund.amount", required=True)
        order = self._order_from(body)
        original = self._transaction_in(order, body)
        wanted = body.get("refund")
        if not isinstance(wanted, dict):
            raise bad("refund is required")
        amount = amount_field(wanted, "amount", "refund.", required=True, positive=True)
        assert amount is not None
        if original["type"] != "Sales" or not original["success"] or original["voided"]:
            raise bad(
                f"transaction.uuid {original['uuid']} cannot be refunded (only a successful, "
                "not voided Sales can)"
            )
        refunded = sum(
            (
                amount_of(t)
                for t in order["transactions"]
                if t["type"] == "Refund" and t["original_transaction_uuid"] == original["uuid"]
            ),
            ZERO,
        )
        refundable = amount_of(original) - refunded
        if amount > refundable:
            raise bad(
                f"refund.amount must be at most {money(refundable)} (the transaction's amount "
                "less its refunds)"
            )
        original.update(allow_void=False, allow_refund=amount < refundable)
        refund = {
            **original,
            "uuid": str(uuidlib.uuid4()),
            "type": "Refund",
            "amount": money(amount),
            "captured": False,
            "allow_void": False,
            "allow_refund": False,
            "original_transaction_uuid": original["uuid"],
            "created_at": utc_now(),
            "payment_data": {
                **original["payment_data"],
                "auth_code": random_digits(6),
                "rrn": random_digits(12),
            },
        }
        order["transactions"].append(refund)
        return {"order": self._commit(order, "order.refunded")}, 200
