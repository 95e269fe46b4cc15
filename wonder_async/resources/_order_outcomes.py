"""Reading what a refund or a void did, from an order answer: the order itself, which
transactions are refunds of a sale, whether a void took effect, the gateway's refusal of a
repeated refund (code 100701), and the look-ups that make both calls safe to retry.

The request builders and the ``Orders`` resource that use these live in
:mod:`wonder_async.resources.orders` (which re-exports the names others import from there).
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from .._converter import object_at, structure
from .._errors import BadRequestError
from .._models import Order, Refund, Transaction
from .._request import Recover
from ._recovery import RECOVERED, recover_from_order


def _order(data: dict[str, Any], path: str = "data") -> Order:
    data = object_at(data, path)
    order = data.get("order")
    if isinstance(order, dict) and data.get("payment_link") is not None:
        order = {**order, "payment_link": data["payment_link"]}
    return structure(order, Order, f"{path}.order")


def _transactions(data: dict[str, Any]) -> list[dict[str, Any]]:
    order = data.get("order")
    found = order.get("transactions") if isinstance(order, dict) else None
    return [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []


#: Wonder's code for a refund refused as a repeat: "Refunds of the same amount are not
#: allowed within five minutes" (wonder-clients.md 4.5, WooCommerce commit aa1eb78).
DUPLICATE_REFUND_CODE: Final = "100701"
#: How long Wonder refuses a second refund of the same amount on a sale.
DUPLICATE_REFUND_WINDOW: Final = 300.0


def _is_refund_of(t: dict[str, Any], transaction_uuid: str) -> bool:
    """A refund of the sale as Wonder's code recognises one: ``type`` "Refund" in any case;
    ``original_transaction_uuid``, when the gateway sends it, must name the sale."""
    kind = t.get("type")
    if not isinstance(kind, str) or kind.strip().lower() != "refund":
        return False
    linked = t.get("original_transaction_uuid")
    return linked in (None, "") or linked == transaction_uuid


def _transaction_id(index: int, t: dict[str, Any]) -> str:
    uuid = t.get("uuid")
    return str(uuid) if uuid else f"#{index}|{t.get('amount')}|{t.get('created_at')}"


def refund_uuids(data: dict[str, Any], transaction_uuid: str) -> frozenset[str]:
    """The ids of the refunds of ``transaction_uuid`` on an order answer (by
    :func:`_is_refund_of`: refunds the gateway does not link to a sale count too)."""
    return frozenset(
        _transaction_id(i, t)
        for i, t in enumerate(_transactions(data))
        if _is_refund_of(t, transaction_uuid)
    )


def _new_refunds(
    data: dict[str, Any], transaction_uuid: str, amount: str | None, before: frozenset[str]
) -> list[int]:
    """Positions of the refunds of the sale that were not there ``before`` and did not fail,
    those of ``amount`` (compared by absolute value) only when ``amount`` is given."""
    return [
        i
        for i, t in enumerate(_transactions(data))
        if _is_refund_of(t, transaction_uuid)
        and _transaction_id(i, t) not in before
        and t.get("success") is not False
        and (amount is None or amount_matches(t.get("amount"), amount))
    ]


def refund_from(
    data: dict[str, Any], transaction_uuid: str, before: frozenset[str], amount: str | None = None
) -> Refund:
    """Build the :class:`Refund` from the order answer: the refund of ``transaction_uuid``
    that was not there ``before`` (of ``amount`` when one of that amount is new)."""
    order = _order(data)
    new = _new_refunds(data, transaction_uuid, amount, before) or _new_refunds(
        data, transaction_uuid, None, before
    )
    transaction = None
    if new:
        chosen = _transactions(data)[new[-1]]
        uuid = chosen.get("uuid")
        found = order.transaction(str(uuid)) if uuid else None
        transaction = found if found is not None else structure(chosen, Transaction)
    return Refund(transaction=transaction, order=order, recovered=bool(data.get(RECOVERED)))


def duplicate_refund_outcome(
    exc: BadRequestError,
    data: dict[str, Any],
    transaction_uuid: str,
    amount: str,
    before: frozenset[str],
    first_sent: float,
) -> Refund:
    """After a refusal with code 100701 (a same-amount refund within five minutes), decide
    from the order read since: a refund of ``amount`` that was not there ``before`` is this
    call's own (its first attempt went through, the answer was lost), returned as recovered;
    otherwise nothing was refunded, and the error says from when a retry is allowed.

    :raises BadRequestError: when the order shows no new refund of ``amount``.
    """
    if _new_refunds(data, transaction_uuid, amount, before):
        return refund_from({**data, RECOVERED: True}, transaction_uuid, before, amount)
    allowed = first_sent + DUPLICATE_REFUND_WINDOW
    when = dt.datetime.fromtimestamp(allowed, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    exc.message = (
        f"{exc.message or 'refund refused'}: the gateway takes one refund of the same amount "
        f"on a sale per five minutes, and the order shows no new refund of {amount}, so "
        f"nothing was refunded by this call; retrying is allowed from {when}"
    )
    exc.retry_after = max(0.0, allowed - time.time())
    raise exc


def _void_done(
    data: dict[str, Any], transaction_uuid: str | None, before: dict[str, Any] | None
) -> bool:
    """Whether an order answer shows the void, from signals the gateway is known to send:
    the order's ``state`` / ``correspondence_state`` ``voided``; for a transaction, its
    ``voided_at``, ``void_is_pending`` true or ``payment_data.transaction_state`` (or
    ``state``) ``voided``, or its ``allow_void`` turned false since ``before`` with no other
    transaction (refund, capture) in between. Never a ``voided`` key: Wonder's code has none."""
    raw_order = data.get("order")
    order = raw_order if isinstance(raw_order, dict) else {}
    states = {str(order.get(k) or "").lower() for k in ("state", "correspondence_state")}
    if "voided" in states:
        return True
    if transaction_uuid is None:
        return False
    now = next((t for t in _transactions(data) if t.get("uuid") == transaction_uuid), None)
    if now is None:
        return False
    if now.get("voided_at") or now.get("void_is_pending") is True:
        return True
    payment_data = now.get("payment_data")
    state = (
        payment_data.get("transaction_state") if isinstance(payment_data, dict) else None
    ) or now.get("state")
    if isinstance(state, str) and state.strip().lower() == "voided":
        return True
    if before is None:
        return False
    was = next((t for t in _transactions(before) if t.get("uuid") == transaction_uuid), None)
    nothing_else = len(_transactions(data)) == len(_transactions(before))
    return (
        was is not None
        and was.get("allow_void") is True
        and now.get("allow_void") is False
        and nothing_else
    )


def _void_recovery(
    key: dict[str, str], transaction_uuid: str | None, before: dict[str, Any] | None
) -> Recover:
    return recover_from_order(
        key, lambda data: _void_done(data, transaction_uuid, before), "the void"
    )


def _refund_recovery(
    key: dict[str, str], transaction_uuid: str, amount: str, before: frozenset[str]
) -> Recover:
    def done(data: dict[str, Any]) -> bool:
        return bool(_new_refunds(data, transaction_uuid, amount, before))

    return recover_from_order(key, done, "the refund")


def amount_matches(value: Any, amount: str) -> bool:
    """Whether a response's amount (text or number) equals ``amount`` by absolute value
    (refunds may come negative)."""
    if value is None or isinstance(value, bool):
        return False
    try:
        return abs(Decimal(str(value))) == abs(Decimal(amount))
    except (InvalidOperation, ValueError):
        return False
