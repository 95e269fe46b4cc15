"""``wonder.orders``: create, look up (with transactions), list, void and refund orders.

Blocking twin generated from wonder_async by scripts/gen_sync.py; do not edit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from wonder_async._errors import BadRequestError
from wonder_async._models import Order, Refund
from wonder_async.resources._order_fields import order_key
from wonder_async.resources._order_outcomes import (
    DUPLICATE_REFUND_CODE,
    _order,
    duplicate_refund_outcome,
    refund_from,
    refund_uuids,
)
from wonder_async.resources._paging import Pager
from wonder_async.resources.orders import _check_uuid, _OrdersRequests
from wonder_sync.resources._base import SyncResource

__all__ = ["Orders"]


class Orders(_OrdersRequests, SyncResource):
    """Orders; pass ``customer_uuid`` to tie one to a customer."""

    __slots__ = ()

    def create(
        self,
        *,
        reference_number: str,
        charge_fee: str | Decimal,
        currency: str,
        customer_uuid: str | None = None,
        with_payment_link: bool = False,
        tips: str | Decimal | None = None,
        note: str | None = None,
        due_date: str | None = None,
        callback_url: str | None = None,
        redirect_url: str | None = None,
        line_items: Sequence[dict[str, Any]] | None = None,
    ) -> Order:
        """Create an order, optionally for a customer and with a hosted payment link.

        Not retried after an ambiguous failure (a repeat could create a second order); the
        error then says to look the order up with :meth:`get` by ``reference_number``.

        :param reference_number: your own unique id of the order (at most 255 characters).
        :param charge_fee: the amount as ``str`` or ``Decimal`` (never ``float``), e.g. "21.00".
        :param currency: ISO 4217 code, e.g. ``HKD``.
        :param customer_uuid: the customer's ``uuid`` from :meth:`Customers.upsert`.
        :param with_payment_link: also return ``payment_link`` for the customer to pay at.
        :param tips: a tip on top of ``charge_fee``, as ``str`` or ``Decimal``.
        :param note: a note on the order (at most 254 characters).
        :param due_date: when the order is due, as the gateway's date string.
        :param callback_url: where Wonder sends this order's webhooks.
        :param redirect_url: where the payment page sends the customer afterwards.
        :param line_items: the order's line items, as the gateway's dicts.
        :returns: the new order, with ``payment_link`` when asked for.
        :raises ValidationError: before sending, naming the field that breaks a rule.
        """
        request = self._create_request(
            reference_number,
            charge_fee,
            currency,
            customer_uuid,
            with_payment_link,
            {
                "tips": tips,
                "note": note,
                "due_date": due_date,
                "callback_url": callback_url,
                "redirect_url": redirect_url,
                "line_items": list(line_items) if line_items is not None else None,
            },
        )
        return _order(self._client._execute(request))

    def get(
        self,
        *,
        number: str | None = None,
        reference_number: str | None = None,
        transaction_uuid: str | None = None,
    ) -> Order:
        """Look an order up, with its transactions, by exactly one of Wonder's ``number``, your
        ``reference_number``, or the ``transaction_uuid`` of one of its transactions (for a
        charge made by this SDK, its ``payment_uuid``).

        :param number: Wonder's order number.
        :param reference_number: your own id of the order.
        :param transaction_uuid: the uuid of one of the order's transactions.
        :returns: the order, with its transactions.
        :raises ValidationError: unless exactly one key is given.
        :raises NotFoundError: when there is no such order.
        """
        request = self._get_request(number, reference_number, transaction_uuid)
        return _order(self._client._execute(request))

    def list(
        self,
        *,
        customer_uuid: str | None = None,
        filters: Mapping[str, Mapping[str, Any]] | None = None,
        page_size: int = 100,
    ) -> Iterator[Order]:
        """Iterate over all orders (or one customer's), ``page_size`` (at most 1000) per request.

        :param customer_uuid: only this customer's orders.
        :param filters: Query DSL filters, e.g. ``{"correspondence_state": {"_eq": "paid"}}``.
        :param page_size: orders fetched per request (1-1000).
        :returns: an iterator over the orders, fetching the next page as you go.
        :raises ValidationError: for a ``page_size`` outside 1-1000.
        """
        pager = Pager("orders", page_size)
        while not pager.done:
            request = self._list_request(page_size, pager.offset, customer_uuid, filters)
            for i, item in enumerate(pager.take(self._client._execute(request))):
                yield _order(item, f"data.orders[{i}]")

    def void(
        self,
        *,
        number: str | None = None,
        reference_number: str | None = None,
        transaction_uuid: str | None = None,
    ) -> Order:
        """Void a transaction of an order (``transaction_uuid``), or a whole unpaid order.

        Made safe to retry: a transaction's order is read first, and after a failure that may
        have reached the gateway it is looked up again; the void is sent again only if the
        order shows no sign of it (``voided_at``, ``void_is_pending``,
        ``payment_data.transaction_state`` ``voided``, ``allow_void`` turned false, or the
        order ``voided``).

        :param number: Wonder's order number (give this or ``reference_number``).
        :param reference_number: your own id of the order.
        :param transaction_uuid: the sale or authorisation to void (must have ``allow_void``);
            without it the order itself is voided, which the gateway allows only while unpaid.
        :returns: the order after the void.
        :raises ValidationError: unless exactly one of ``number``/``reference_number`` is given.
        :raises BadRequestError: the gateway refused (not voidable, already voided, paid).
        :raises OutcomeUnknownError: the void failed ambiguously and could not be looked up.
        """
        key = order_key(number, reference_number)
        if transaction_uuid is not None:
            _check_uuid("transaction.uuid", transaction_uuid)
        before = (
            self._client._execute(self._check_request(key))
            if transaction_uuid is not None
            else None
        )
        request = self._void_request(key, transaction_uuid, before)
        return _order(self._client._execute(request))

    def refund(
        self,
        *,
        transaction_uuid: str,
        amount: str | Decimal,
        number: str | None = None,
        reference_number: str | None = None,
    ) -> Refund:
        """Refund ``amount`` (all or part) of a successful sale of an order.

        The order is read first, so that after a failure that may have reached the gateway a
        look-up can tell this refund from earlier ones (a refund is a transaction of ``type``
        "Refund", any case, of the same absolute amount, linked to the sale by
        ``original_transaction_uuid`` when the gateway sends one); the refund is sent again
        only if it did not take effect. When the gateway refuses it as a repeat (code
        ``100701``: one refund of the same amount per sale per five minutes), the order is read
        again: a new refund of ``amount`` there is this call's own (returned, ``recovered``);
        otherwise the error says from when retrying is allowed (``retry_after``). Refunds
        never exceed what is left of the sale.

        :param transaction_uuid: the sale to refund.
        :param amount: ``str`` or ``Decimal`` above 0 with at most 2 places.
        :param number: Wonder's order number (give this or ``reference_number``).
        :param reference_number: your own id of the order.
        :returns: the :class:`Refund` with the new refund ``transaction`` and the ``order``.
        :raises ValidationError: before sending, naming the field that breaks a rule.
        :raises NotFoundError: there is no such order.
        :raises BadRequestError: the gateway refused (not refundable, amount above what is left,
            code ``100701``: a refund of the same amount within five minutes).
        :raises OutcomeUnknownError: the refund failed ambiguously and could not be looked up.
        """
        key = order_key(number, reference_number)
        _check_uuid("transaction.uuid", transaction_uuid)
        value = self._refund_amount(amount)
        before = refund_uuids(self._client._execute(self._check_request(key)), transaction_uuid)
        request = self._refund_request(key, transaction_uuid, value, before)
        first_sent = time.time()
        try:
            data = self._client._execute(request)
        except BadRequestError as exc:
            if exc.code != DUPLICATE_REFUND_CODE:
                raise
            # Refused as a repeat: this call's own first attempt, or an earlier refund?
            after = self._client._execute(self._check_request(key))
            return duplicate_refund_outcome(exc, after, transaction_uuid, value, before, first_sent)
        return refund_from(data, transaction_uuid, before, value)
