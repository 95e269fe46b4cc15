"""What a ``wonder conformance`` run leaves behind, and undoing it where the API allows.

The readers of an order's transactions (:func:`amount_of`, :func:`is_refund`,
:func:`transactions`, :func:`find_transaction`), shared by the steps, the cleanup and the
inference; the :class:`Cleanup` record; and :class:`CleanupSteps`, the part of
:class:`~._flow.Flow` that refunds what is left of a sale, voids a sale or an unpaid order and
deletes the tokens the run bound. The steps themselves live in :mod:`._flow`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs

from .._wire import Paths, path_segment
from ._calls import BudgetExhausted, Call

if TYPE_CHECKING:
    from ._flow import FlowSettings

__all__ = [
    "Cleanup",
    "CleanupSteps",
    "amount_of",
    "find_transaction",
    "is_refund",
    "transactions",
]


def amount_of(value: Any) -> Decimal | None:
    """An amount written as a JSON number or a string; ``None`` when it is neither."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def is_refund(transaction: dict[str, Any]) -> bool:
    return str(transaction.get("type", "")).lower() == "refund"


def transactions(order: dict[str, Any] | None) -> list[dict[str, Any]]:
    items = (order or {}).get("transactions")
    return [t for t in items if isinstance(t, dict)] if isinstance(items, list) else []


def find_transaction(order: dict[str, Any] | None, uuid: str | None) -> dict[str, Any] | None:
    """The transaction ``uuid`` of ``order``; else its last non-refund one."""
    items = transactions(order)
    for t in items:
        if uuid is not None and t.get("uuid") == uuid:
            return t
    others = [t for t in items if not is_refund(t)]
    return others[-1] if others else None


@attrs.define
class Cleanup:
    """What the run left behind: undone, or not (and why)."""

    done: list[str] = attrs.field(factory=list)
    left: list[str] = attrs.field(factory=list)


class CleanupSteps:
    """The cleanup of :class:`~._flow.Flow` (a mixin: the state it reads is the flow's)."""

    s: FlowSettings
    customer_uuid: str | None
    cleanup: Cleanup
    _bound_tokens: list[str]
    _orders: dict[str, str | None]

    if TYPE_CHECKING:

        async def _call(
            self,
            step: str,
            method: str,
            path: str,
            body: Any = None,
            query: tuple[tuple[str, str], ...] = (),
            **kw: Any,
        ) -> Call: ...

    async def _cleanup(self) -> None:
        """Undo what the run created where the API allows; list the rest."""
        try:
            for ref, txn in list(self._orders.items()):
                await self._clean_order(ref, txn)
            if self.customer_uuid is not None:
                path = Paths.PAYMENT_TOKENS.format(uuid=path_segment(self.customer_uuid))
                for token in self._bound_tokens:
                    call = await self._call(
                        "cleanup.token_delete", "DELETE", path, {"token": token}, cleanup=True
                    )
                    self._note(call, f"payment token {token} deleted")
            self._bound_tokens.clear()
        except BudgetExhausted as exc:
            self.cleanup.left.append(f"cleanup stopped: {exc}")
        if self.customer_uuid is not None and self.s.customer_uuid is None:
            self.cleanup.left.append(
                f"customer {self.customer_uuid} ({self.s.ref('customer')}): the API has no "
                "customer delete"
            )

    def _note(self, call: Call, what: str) -> bool:
        if call.ok:
            self.cleanup.done.append(what)
        else:
            self.cleanup.left.append(f"not done: {what} ({call.summary()})")
        return call.ok

    async def _clean_order(self, ref: str, txn_uuid: str | None) -> None:
        call = await self._call(
            "cleanup.get",
            "POST",
            Paths.ORDER_CHECK,
            {"order": {"reference_number": ref}},
            cleanup=True,
        )
        order = call.order
        if order is None:
            self.cleanup.left.append(f"order {ref}: could not be read ({call.summary()})")
            return
        key = {"reference_number": ref}
        items = transactions(order)
        live = [t for t in items if not is_refund(t) and t.get("success") is True]
        if not live:
            if order.get("state") == "voided":
                return
            void = await self._call(
                "cleanup.order_void", "POST", Paths.ORDER_VOID, {"order": key}, cleanup=True
            )
            self._note(void, f"order {ref} voided (unpaid)")
            return
        for t in live:
            uuid = t.get("uuid")
            if t.get("voided_at") or t.get("void_is_pending") is True or t.get("voided") is True:
                continue
            refunded = sum(
                (
                    abs(amount_of(r.get("amount")) or Decimal(0))
                    for r in items
                    if is_refund(r) and r.get("original_transaction_uuid") in (uuid, None)
                ),
                Decimal(0),
            )
            if t.get("allow_void") is True and refunded == 0:
                void = await self._call(
                    "cleanup.void",
                    "POST",
                    Paths.ORDER_VOID,
                    {"order": key, "transaction": {"uuid": uuid}},
                    cleanup=True,
                )
                if self._note(void, f"transaction {uuid} of {ref} voided"):
                    continue
            left = (amount_of(t.get("amount")) or Decimal(0)) - refunded
            if left > 0 and str(t.get("type", "")).lower() == "sales":
                refund = await self._call(
                    "cleanup.refund",
                    "POST",
                    Paths.ORDER_REFUND,
                    {
                        "order": key,
                        "transaction": {"uuid": uuid},
                        "refund": {"amount": f"{left:.2f}"},
                    },
                    cleanup=True,
                )
                self._note(refund, f"transaction {uuid} of {ref}: {left:.2f} refunded")
            elif left > 0:
                self.cleanup.left.append(f"transaction {uuid} of {ref}: could not be voided")
