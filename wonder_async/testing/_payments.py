"""Money moving on the emulator's orders: charges of saved tokens, voids and refunds.

Where the real gateway's behaviour is unknown, the handlers ask ``self.readings``
(:mod:`._readings`; ``docs/decisions.md`` gives each default and its evidence):

* A charge's transaction uuid is the ``payment.uuid`` sent, else a new uuid4. A
  ``payment.uuid`` seen before (success, decline or still pending) answers 200 with the order
  that holds that first transaction and charges nothing -- unless ``dedupe_charges`` is off
  (``Emulator(dedupe_charges=False)``, ``wonder emulator --no-dedupe-charges``): then it is
  charged again, as by a gateway that ignores the uuid, so a client that sends a charge twice
  shows two transactions in the ledger.
* ``charges=pending``: the answer holds the transaction ``success: false, is_pending: true``;
  ``pending_seconds`` later it settles (approved, or declined for the decline test card) and
  the order's totals, answers and webhooks show it.
* ``declines=success_false``: a declined charge is answered 200 with the transaction
  ``success: false`` and the reason in ``payment_data.resp_code``/``resp_msg``;
  ``declines=http``: a refusal (per ``errors``) whose ``data.order`` holds it.
* ``voids=marked``: a void sets ``voided_at`` at once; ``voids=pending``: first
  ``void_is_pending: true``, ``voided_at`` after ``pending_seconds``.
* ``refunds``: how a refund shows (see :meth:`OrdersMixin._transaction_view`);
  ``duplicate_refund=refuse``: a second refund of the same amount on the same sale within
  five minutes is refused with code 100701.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from decimal import Decimal
from typing import Any

from aiohttp import web

from . import _rules as rules
from ._common import (
    DECLINED,
    DUPLICATE_REFUND,
    DUPLICATE_REFUND_WINDOW,
    Reject,
    bad,
    money,
    not_allowed,
    not_found,
)
from ._customers import CHARGE_DECLINE
from ._orders import (
    amount_of,
    is_voided,
    new_transaction,
    random_digits,
    refunded_of,
    utc_now,
)
from ._settle import SettleMixin

__all__ = ["PaymentsMixin"]


class PaymentsMixin(SettleMixin):
    """Handlers for charges of saved tokens, voids and refunds."""

    def _transaction_in(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """The transaction of ``order`` named by ``body["transaction"]["uuid"]``."""
        uuid = rules.transaction_uuid(body, required=True)
        for transaction in order.get("transactions", ()):
            if transaction["uuid"] == uuid:
                result: dict[str, Any] = transaction
                return result
        raise not_found("transaction", f"{uuid} is not in order {order['number']}")

    # --- charge a saved token ----------------------------------------------------------------

    async def _open_payment(self, _request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        rules.only_keys(body, ["reference_number", "number", "order", "customer_uuid", "payment"])
        charge = rules.payment(body)
        for key in ("reference_number", "number"):
            rules.text(body, key, key)
        prefix = "payment.payment_token."
        amount = Decimal(charge["amount"])
        if amount <= 0:
            raise bad(f"{prefix}amount: must be greater than 0")
        token_id: str = charge["token"]
        payment_uuid: str | None = charge["uuid"]
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
            found = rules.text(body, key, key, required=True) or ""
            number = found if key == "number" else self.state.order_by_ref.get(found)
            stored = self.state.orders.get(number) if number is not None else None
            if stored is None:
                raise not_found("order", f"no order has {key} {found!r}")
            order = self._copy(stored)

        token = self.state.tokens.get(token_id)
        if token is None:
            # A field refusal, not "not found": the order may well exist.
            raise bad(f"{prefix}token: is not a payment token (never bound, or deleted)")
        if token["state"] != "success":
            raise not_allowed(
                f"{prefix}token is {token['state']}; only a bound (success) token can pay"
            )
        owner = order.get("customer_uuid")
        if owner is not None and token["customer_uuid"] != owner:
            raise not_allowed(f"{prefix}token belongs to another customer than the order's")
        if order["state"] == "voided" or order["correspondence_state"] == "voided":
            raise not_allowed(f"order {order['number']} is voided; it cannot be paid")
        if order["correspondence_state"] == "refunded":
            raise not_allowed(f"order {order['number']} is fully refunded; it cannot be paid")

        actions = ["order.created"] if created else []
        decline = token.get(CHARGE_DECLINE)
        card = token["credit_card"]
        kind = "Sales" if charge["consume_mode"] == "sales" else "Authorization"
        transaction = new_transaction(payment_uuid or str(uuidlib.uuid4()), kind,
                                      order["currency"], amount,
                                      payment_method="payment_token")  # fmt: skip
        transaction["payment_data"].update(
            first_6_digits=card["number"][:6],
            last_4_digits=card["number"][-4:],
            credit_card_type=card["brand"],
            token=token_id,
        )
        reason = self._decline_of(decline)
        if self.readings.is_("charges", "pending"):
            # Not final yet: neither a success nor a decline (Wonder's iOS SDK polls while
            # is_pending is set); settle_due() decides it pending_seconds from now.
            transaction.update(success=False, is_pending=True, captured=False,
                               allow_void=False, allow_refund=False,
                               _settles_at=time.time() + self.pending_seconds,
                               _outcome="success" if decline is None else "declined")  # fmt: skip
            if reason is not None:
                transaction["_decline"] = [reason["resp_code"], reason["resp_msg"]]
            transaction["payment_data"].update(
                auth_code=None, transaction_state="pending", resp_code=None, resp_msg=None
            )
            order["transactions"].append(transaction)
            view = self._commit(order, *actions)
            self._schedule_settle()
            return {"order": view}, 200
        if reason is not None:
            transaction.update(success=False, captured=False, allow_void=False,
                               allow_refund=False)  # fmt: skip
            transaction["payment_data"].update(auth_code=None, transaction_state="failed", **reason)
            order["transactions"].append(transaction)
            view = self._commit(order, *actions, "order.payment_failure")
            if self.readings.is_("declines", "http"):
                raise Reject(400, 400, f"card declined: {reason['resp_msg']}",
                             data={"order": view}, error_code=DECLINED)  # fmt: skip
            return {"order": view}, 200
        order["transactions"].append(transaction)
        if kind == "Sales":
            actions.append("order.paid")
        return {"order": self._commit(order, *actions)}, 200

    @staticmethod
    def _decline_of(decline: Any) -> dict[str, str] | None:
        """The acquirer's answer for a token whose charges are declined, else ``None``."""
        if decline is None:
            return None
        code, message = decline
        # Records of 0.1 databases held the emulator's old invented code ("E300051").
        return {"resp_code": "51" if code == "E300051" else str(code), "resp_msg": message}

    # --- void and refund ---------------------------------------------------------------------

    async def _void(self, _request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        rules.only_keys(body, ["order", "transaction"])
        order = self._order_from(body)
        if "transaction" not in body:
            if order["state"] == "voided":
                raise not_allowed(f"order {order['number']} is already voided")
            if order["correspondence_state"] != "unpaid":
                raise not_allowed(
                    f"order {order['number']} is {order['correspondence_state']}; only an unpaid "
                    "order can be voided (void or refund its transactions instead)"
                )
            for transaction in order["transactions"]:  # release pre-authorisations
                pending = transaction.pop("_settles_at", None) is not None
                if pending:  # a charge still pending never settles on a voided order
                    transaction.pop("_outcome", None)
                    transaction.pop("_decline", None)
                    transaction["is_pending"] = False
                if (transaction["success"] or pending) and not is_voided(transaction):
                    self._start_void(transaction)
                    self._finish_void(transaction)  # an order void is immediate
            order["state"] = order["correspondence_state"] = "voided"
            return {"order": self._commit(order, "order.voided")}, 200
        transaction = self._transaction_in(order, body)
        if is_voided(transaction):
            raise not_allowed(f"transaction.uuid {transaction['uuid']} is already voided")
        if transaction.get("void_is_pending"):
            raise not_allowed(f"transaction.uuid {transaction['uuid']} is already being voided")
        if not transaction["allow_void"]:
            raise not_allowed(
                f"transaction.uuid {transaction['uuid']} cannot be voided (only a successful "
                "Sales or Authorization without refunds can)"
            )
        self._start_void(transaction)
        if self.readings.is_("voids", "pending"):
            transaction.update(void_is_pending=True, _voids_at=time.time() + self.pending_seconds)
            view = self._commit(order)
            self._schedule_settle()
            return {"order": view}, 200
        self._finish_void(transaction)
        return {"order": self._commit(order, "transaction.voided")}, 200

    @staticmethod
    def _start_void(transaction: dict[str, Any]) -> None:
        transaction.update(allow_void=False, allow_refund=False)

    async def _refund(self, _request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        rules.only_keys(body, ["order", "transaction", "refund"])
        refund_in = rules.obj(body, "refund", "refund") or {}
        # currency, reason (WOO gateway.php:772-776) and note (OC library :282) are tolerated.
        rules.only_keys(refund_in, ["amount"], "refund.")
        amount = Decimal(rules.amount(refund_in, "amount", "refund.amount", required=True) or 0)
        if amount <= 0:
            raise bad("refund.amount: must be greater than 0")
        order = self._order_from(body)
        original = self._transaction_in(order, body)
        if (
            original["type"] != "Sales"
            or not original["success"]
            or is_voided(original)
            or original.get("void_is_pending")
        ):
            raise not_allowed(
                f"transaction.uuid {original['uuid']} cannot be refunded (only a successful, "
                "not voided Sales can)"
            )
        refundable = amount_of(original) - refunded_of(order, original["uuid"])
        if amount > refundable:
            raise not_allowed(
                f"refund.amount must be at most {money(refundable)} (the transaction's amount "
                "less its refunds)"
            )
        now = time.time()
        if self.readings.is_("duplicate_refund", "refuse") and any(
            t["type"] == "Refund"
            and t["original_transaction_uuid"] == original["uuid"]
            and amount_of(t) == amount
            and now - t.get("_at", 0) < DUPLICATE_REFUND_WINDOW
            for t in order["transactions"]
        ):
            # Wonder's WooCommerce plugin mapped this code to that text (commit aa1eb78).
            raise Reject(400, DUPLICATE_REFUND,
                         "Refunds of the same amount are not allowed within five minutes",
                         error_code=str(DUPLICATE_REFUND))  # fmt: skip
        original.update(allow_void=False, allow_refund=amount < refundable)
        refund = {
            **original,
            "uuid": str(uuidlib.uuid4()),
            "type": "Refund",
            "amount": money(amount),
            "captured": False,
            "allow_void": False,
            "allow_refund": False,
            # Stored always; the refunds=negative_unlinked view hides it.
            "original_transaction_uuid": original["uuid"],
            "created_at": utc_now(),
            "_at": now,
            "payment_data": {
                **original["payment_data"],
                "auth_code": random_digits(6),
                "rrn": random_digits(12),
            },
        }
        order["transactions"].append(refund)
        return {"order": self._commit(order, "order.refunded")}, 200
