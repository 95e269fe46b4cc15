"""``wonder.payments``: charge a saved payment token, exactly once.

Blocking twin generated from wonder_async by scripts/gen_sync.py; do not edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from wonder_async._errors import BadRequestError
from wonder_async._models import Payment
from wonder_async.resources._order_fields import order_fields, order_key
from wonder_async.resources.payments import _PaymentsRequests, declined_from, payment_from
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
        :returns: the :class:`Payment` with its ``transaction`` and ``order``.
        :raises ValidationError: before sending, naming the field that breaks a rule.
        :raises CardDeclinedError: the issuer or gateway declined the charge (never retried).
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
        :returns: the :class:`Payment` with its ``transaction`` and the new ``order``.
        :raises ValidationError: before sending, naming the field that breaks a rule.
        :raises CardDeclinedError: the issuer or gateway declined the charge (never retried).
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
