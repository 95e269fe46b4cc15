"""Pending charges and voids of the emulator's orders, and how they settle.

With ``charges=pending`` or ``voids=pending`` (:mod:`._readings`) a transaction is saved with
``_settles_at`` (and ``_outcome``, ``_decline``) or ``_voids_at``; the order's number is kept
in ``_pending_orders``. :meth:`SettleMixin.settle_due` makes each one final once its time has
come -- before every API request and ``pending_seconds`` after the operation -- and sends the
webhook it causes. The order records themselves are in :mod:`._orders`; the handlers that
start pending charges and voids in :mod:`._payments`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ._orders import OrdersMixin, random_digits, utc_now

__all__ = ["SettleMixin"]


class SettleMixin(OrdersMixin):
    """Settling pending charges and voids: the timer, :meth:`settle_due` and its steps."""

    def _schedule_settle(self) -> None:
        """Settle what is pending once ``pending_seconds`` have passed (webhooks included)."""

        async def later() -> None:
            await asyncio.sleep(self.pending_seconds)
            self.settle_due()

        # Not in _background: wait_for_webhooks() waits for deliveries, not for this timer.
        task = asyncio.get_running_loop().create_task(later())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def settle_due(self, now: float | None = None) -> None:
        """Settle every pending charge and void whose time has come, and send its webhook.

        Runs before each API request and ``pending_seconds`` after each pending operation,
        so every answer and webhook after that moment shows the settled state.

        :param now: the moment to settle up to (``time.time()`` seconds); a test passes a
            later time to settle at once instead of waiting ``pending_seconds``.
        """
        now = time.time() if now is None else now
        for number in list(self._pending_orders):
            stored = self.state.orders.get(number)
            if stored is None:
                self._pending_orders.discard(number)
                continue
            order = self._copy(stored)
            actions: list[str] = []
            changed = False  # an approved pre-authorisation settles without a webhook
            for t in order["transactions"]:
                if t.get("_settles_at", now + 1) <= now:
                    actions.extend(self._settle_charge(t))
                    changed = True
                if t.get("_voids_at", now + 1) <= now:
                    del t["_voids_at"]
                    self._finish_void(t)
                    actions.append("transaction.voided")
                    changed = True
            if changed:
                self._pending_orders.discard(number)
                self._commit(order, *actions)

    def _settle_charge(self, transaction: dict[str, Any]) -> list[str]:
        """A pending charge turns final; returns the webhook actions it causes."""
        del transaction["_settles_at"]
        approved = transaction.pop("_outcome", "success") == "success"
        data = transaction["payment_data"]
        transaction.update(is_pending=False, success=approved)
        if approved:
            sale = transaction["type"] == "Sales"
            transaction.update(allow_void=True, allow_refund=sale, captured=sale)
            data.update(auth_code=random_digits(6), transaction_state="success")
            data.update(resp_code="00", resp_msg="Approved")
            return ["order.paid"] if sale else []
        data.update(transaction_state="failed", **self._decline_reason(transaction))
        return ["order.payment_failure"]

    @staticmethod
    def _decline_reason(transaction: dict[str, Any]) -> dict[str, str]:
        code, message = transaction.pop("_decline", None) or ("51", "Insufficient funds")
        return {"resp_code": code, "resp_msg": message}

    @staticmethod
    def _finish_void(transaction: dict[str, Any]) -> None:
        transaction.update(void_is_pending=False, voided_at=utc_now())
        transaction["payment_data"] = {**transaction["payment_data"], "transaction_state": "voided"}
