"""``wonder.payments``: charge a saved payment token, exactly once.

Blocking twin generated from wonder_async by scripts/gen_sync.py; do not edit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs

from wonder_async._errors import BadRequestError, ValidationError
from wonder_async._models import Payment
from wonder_async.resources._charges import declined_from, payment_from
from wonder_async.resources._order_fields import order_fields, order_key
from wonder_async.resources.orders import _OrdersRequests
from wonder_async.resources.payments import _PaymentsRequests
from wonder_sync.resources._base import SyncResource
from wonder_sync.resources._manual import ManualPayments as _ManualPayments

__all__ = ["Payments"]


class Payments(_ManualPayments, _PaymentsRequests, SyncResource):
    """Charges of saved payment tokens (merchant-initiated), each made at most once."""

    __slots__ = ()

    def create(
        self,
        *,
        token: str,
        amount: str | Decimal,
        reference_number: str | None = None,
        number: str | None = None,
        consume_mode: str = "sales",
        payment_uuid: str | None = None,
    ) -> Payment:
        """Charge a saved ``token`` for an order created before, at most once.

        Name the order by your ``reference_number`` or Wonder's ``number``. Failures that may
        have reached the gateway are retried, but only after looking the charge up by its
        ``payment_uuid``: if it went through, that transaction is returned
        (``payment.recovered``) instead of charging again.

        :param token: the customer's payment token (``PaymentToken.token``), bound and usable.
        :param amount: the amount as ``str`` or ``Decimal`` (never ``float``), e.g. ``"21.00"``.
        :param reference_number: your own id of the order to pay (give this or ``number``).
        :param number: Wonder's number of the order to pay.
        :param consume_mode: ``"sales"`` (charge) or ``"pre_authorize"`` (hold the amount).
        :param payment_uuid: your own id for this charge (at most 64 characters), e.g. derived
            from your invoice id: a second call with the same id, even from another process
            after a crash, returns the first charge instead of making another. It is looked
            up before sending. Default: a new UUID4, fixed for this call's retries.
        :returns: the :class:`Payment` with its ``transaction`` and ``order``; its ``status`` is
            ``"succeeded"``, or ``"pending"`` when the gateway has not settled the charge yet
            (neither paid nor declined: :meth:`wait` for it, never charge it again).
        :raises ValidationError: before sending, naming the field that breaks a rule.
        :raises CardDeclinedError: the issuer or gateway declined the charge for good
            (``success`` false, ``is_pending`` false); ``code`` and message are Wonder's
            reason (``payment_data.resp_code`` / ``resp_msg``). Never retried.
        :raises NotFoundError: there is no such order.
        :raises OutcomeUnknownError: the charge failed ambiguously and could not be looked up;
            calling again with the same ``payment_uuid`` is safe.
        """
        key = order_key(number, reference_number)
        request, chosen = self._charge_request(
            dict(key), key, token, amount, consume_mode, payment_uuid
        )
        try:
            data = self._client._execute(request)
        except BadRequestError as exc:
            raise declined_from(exc, chosen) from None
        return payment_from(data, chosen)

    def create_with_order(
        self,
        *,
        reference_number: str,
        token: str,
        amount: str | Decimal,
        currency: str,
        customer_uuid: str | None = None,
        consume_mode: str = "sales",
        payment_uuid: str | None = None,
        tips: str | Decimal | None = None,
        note: str | None = None,
        due_date: str | None = None,
        callback_url: str | None = None,
        redirect_url: str | None = None,
        line_items: Sequence[dict[str, Any]] | None = None,
    ) -> Payment:
        """Create an order for ``amount`` and charge a saved ``token`` for it, in one call.

        Wonder's "Direct Payment". Exactly-once rules as for :meth:`create`; the look-up also
        finds the order by ``reference_number``.

        :param reference_number: your unique reference of the new order.
        :param token: the customer's payment token (``PaymentToken.token``), bound and usable.
        :param amount: the order's ``charge_fee`` and the amount charged.
        :param currency: ISO 4217 code, e.g. ``HKD``.
        :param customer_uuid: the customer who owns the token.
        :param consume_mode: ``"sales"`` (charge) or ``"pre_authorize"`` (hold the amount).
        :param payment_uuid: your own id for this charge, as for :meth:`create`.
        :param tips: a tip on top of ``amount``, as ``str`` or ``Decimal``.
        :param note: a note on the order (at most 254 characters).
        :param due_date: when the order is due, as the gateway's date string.
        :param callback_url: where Wonder sends this order's webhooks.
        :param redirect_url: where the payment page sends the customer afterwards.
        :param line_items: the order's line items, as the gateway's dicts.
        :returns: the :class:`Payment` with its ``transaction`` and the new ``order``; its
            ``status`` is ``"succeeded"`` or ``"pending"``, as for :meth:`create`.
        :raises ValidationError: before sending, naming the field that breaks a rule.
        :raises CardDeclinedError: the issuer or gateway declined the charge for good, as for
            :meth:`create` (never retried).
        :raises OutcomeUnknownError: as for :meth:`create`.
        """
        target = order_fields(
            reference_number,
            amount,
            currency,
            customer_uuid,
            {
                "tips": tips,
                "note": note,
                "due_date": due_date,
                "callback_url": callback_url,
                "redirect_url": redirect_url,
                "line_items": list(line_items) if line_items is not None else None,
            },
        )
        request, chosen = self._charge_request(
            target,
            {"reference_number": reference_number},
            token,
            amount,
            consume_mode,
            payment_uuid,
            operation="payments.create_with_order",
        )
        try:
            data = self._client._execute(request)
        except BadRequestError as exc:
            raise declined_from(exc, chosen) from None
        return payment_from(data, chosen)

    def wait(self, payment: Payment, *, timeout: float = 60.0, interval: float = 1.0) -> Payment:
        """Wait for a pending charge to settle: poll its order (Query order) every
        ``interval`` seconds, for at most ``timeout`` seconds.

        A pending charge (``payment.status == "pending"``: ``success`` false while
        ``is_pending`` is true or absent) is neither paid nor declined yet. Never charge it
        again: wait here, or look it up later (``orders.get(transaction_uuid=payment_uuid)``,
        or this method again). A payment that is not pending is returned at once.

        :param payment: the :class:`Payment` that :meth:`create` or :meth:`create_with_order`
            returned (or one from a billing run).
        :param timeout: seconds to wait in all.
        :param interval: seconds between look-ups.
        :returns: the payment once it settled (``status`` ``succeeded``), or, when ``timeout``
            passed first, the latest look-up, still ``pending``: check ``payment.status``.
        :raises CardDeclinedError: the charge settled as declined.
        :raises ValidationError: for a negative ``timeout`` or an ``interval`` not above 0.
        """
        if timeout < 0:
            raise ValidationError("timeout", "range", "must not be negative")
        if interval <= 0:
            raise ValidationError("interval", "range", "must be above 0")
        order = payment.order
        request = (
            _OrdersRequests._get_request(order.number, None)
            if order.number
            else _OrdersRequests._get_request(None, order.reference_number)
            if order.reference_number
            else _OrdersRequests._get_request(None, None, payment.payment_uuid)
        )
        deadline = time.monotonic() + timeout
        current = payment
        while current.pending:
            if time.monotonic() + interval > deadline:
                return current
            self._client._sleep(interval)
            data = self._client._execute(request)
            found = payment_from(data, payment.payment_uuid)
            current = attrs.evolve(found, recovered=payment.recovered)
        return current
