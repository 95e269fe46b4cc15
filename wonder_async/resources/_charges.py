"""What a charge's answer means: the look-up that finds a charge by its ``payment.uuid``
(what makes a charge safe to retry), and the reading of an answer as a :class:`Payment` --
succeeded, ``pending`` (not settled yet), or declined for good (:class:`CardDeclinedError`),
also when the gateway refuses the call with the failed transaction in a 400.

The ``Payments`` resource and its request builders live in
:mod:`wonder_async.resources.payments` (which re-exports the names others import from there).
"""

from __future__ import annotations

from typing import Any

from .._converter import structure_at
from .._errors import APIConnectionError, BadRequestError, CardDeclinedError, WonderError
from .._models import Order, Payment
from .._request import Recover
from ._recovery import RECOVERED, recover_from_order


def _has_transaction(payment_uuid: str) -> Any:
    def found(data: dict[str, Any]) -> bool:
        order = data.get("order")
        transactions = order.get("transactions") if isinstance(order, dict) else None
        return isinstance(transactions, list) and any(
            isinstance(t, dict) and t.get("uuid") == payment_uuid for t in transactions
        )

    return found


def _readable_charge(data: dict[str, Any]) -> None:
    # Checked inside the pipeline: a charge answer of the wrong shape is looked up like any
    # unreadable answer, never taken as a result nor sent again blindly.
    structure_at(data, "order", Order)


def _charge_recovery(payment_uuid: str, key: dict[str, str]) -> Recover:
    # One read: the order, with every transaction on it. A charge always belongs to its order,
    # so an order that does not exist (404) has no charge either. (Query order by transaction
    # uuid would answer the same question, but is documented on the stage pages only, and a
    # 404 from it cannot tell "no such transaction" from "no such query".)
    return recover_from_order(
        key,
        _has_transaction(payment_uuid),
        f"the charge with payment_uuid {payment_uuid}",
        payment_uuid=payment_uuid,
    )


def payment_from(data: dict[str, Any], payment_uuid: str, *, refused: bool = False) -> Payment:
    """Build the :class:`Payment` of ``payment_uuid`` from an order answer.

    A transaction with ``success`` false is a decline only once it is final (``is_pending``
    explicitly false, or the gateway refused the call: ``refused``); until then the payment
    is returned with ``status`` ``pending``.

    :raises CardDeclinedError: when the charge's transaction failed for good.
    """
    order = structure_at(data, "order", Order)
    transaction = order.transaction(payment_uuid)
    if transaction is None:
        # A gateway that names transactions itself: the newest charge on the order is ours.
        charges = [t for t in order.transactions if not t.is_refund]
        if not charges:
            raise APIConnectionError(
                f"the gateway's answer holds no transaction for payment_uuid {payment_uuid}"
            )
        transaction = charges[-1]
    payment = Payment(payment_uuid, transaction, order, recovered=bool(data.get(RECOVERED)))
    final_failure = transaction.success is False and (
        transaction.is_pending is False or (refused and transaction.is_pending is not True)
    )
    if final_failure:
        raise CardDeclinedError(
            transaction.decline_message or "the charge was declined",
            code=transaction.decline_code,
            payment_uuid=payment_uuid,
            payment=payment,
        )
    return payment


def declined_from(exc: BadRequestError, payment_uuid: str) -> BadRequestError:
    """Turn a 400 whose body holds the failed transaction into a :class:`CardDeclinedError`;
    any other 400 (bad parameters, unusable token) is returned unchanged."""
    body = exc.body if isinstance(exc.body, dict) else {}
    data = body.get("data")
    if not isinstance(data, dict) or not _has_transaction(payment_uuid)(data):
        return exc
    try:
        payment_from(data, payment_uuid, refused=True)
    except CardDeclinedError as declined:
        payment = declined.payment
    except WonderError:
        return exc
    else:
        return exc  # the transaction succeeded: not a decline, keep the gateway's error
    return CardDeclinedError(
        exc.message,
        status=exc.status,
        code=exc.code,
        body=exc.body,
        request_id=exc.request_id,
        attempts=exc.attempts,
        payment_uuid=payment_uuid,
        payment=payment,
    )
