"""``wonder.orders``: create, look up (with transactions), list, void and refund orders.

Here: the ``Orders`` resource and its request builders (``_OrdersRequests``, shared with the
blocking twin and ``wonder.payments``). How a refund or void outcome is read from an order
answer, and the look-ups that make them safe to retry, live in
:mod:`~wonder_async.resources._order_outcomes`; the names others import from this module are
re-exported below.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from .._converter import structure_at
from .._errors import BadRequestError, ValidationError
from .._models import MAX_TOKEN_LENGTH, Order, Refund, check_text
from .._request import Request
from .._wire import Paths, path_segment
from ._base import AsyncResource
from ._listing import MAX_PAGE_SIZE, filter_query
from ._order_fields import amount_text, order_fields, order_key
from ._order_outcomes import DUPLICATE_REFUND_CODE as DUPLICATE_REFUND_CODE
from ._order_outcomes import DUPLICATE_REFUND_WINDOW as DUPLICATE_REFUND_WINDOW
from ._order_outcomes import _order as _order
from ._order_outcomes import _refund_recovery, _void_recovery
from ._order_outcomes import _void_done as _void_done
from ._order_outcomes import amount_matches as amount_matches
from ._order_outcomes import duplicate_refund_outcome as duplicate_refund_outcome
from ._order_outcomes import refund_from as refund_from
from ._order_outcomes import refund_uuids as refund_uuids
from ._paging import Pager

__all__ = ["Orders"]


def order_answer(data: dict[str, Any]) -> None:
    """A request's ``expect``: the answer holds a readable order (``data.order``), so the
    look-ups and checks that read it raw meet the documented types only."""
    structure_at(data, "order", Order)


def _check_uuid(field: str, value: str) -> None:
    check_text(field, value, required=True, max_length=MAX_TOKEN_LENGTH)


class _OrdersRequests:
    """Request builders shared by the async and blocking resources."""

    __slots__ = ()

    @staticmethod
    def _create_request(
        reference_number: str,
        charge_fee: str | Decimal,
        currency: str,
        customer_uuid: str | None,
        with_payment_link: bool,
        extra: dict[str, Any],
    ) -> Request:
        payload = order_fields(reference_number, charge_fee, currency, customer_uuid, extra)
        uri = Paths.ORDERS + ("?with_payment_link=true" if with_payment_link else "")
        return Request.json(
            "POST",
            uri,
            payload,
            idempotent=False,
            operation="orders.create",
            reconcile=(
                f"call orders.get(reference_number={reference_number!r}) to see whether the "
                f"order exists before trying again"
            ),
        )

    @staticmethod
    def _get_request(
        number: str | None, reference_number: str | None, transaction_uuid: str | None = None
    ) -> Request:
        if transaction_uuid is not None:
            if number is not None or reference_number is not None:
                raise ValidationError(
                    "transaction_uuid",
                    "one_of",
                    "give exactly one of number, reference_number or transaction_uuid",
                )
            _check_uuid("transaction.uuid", transaction_uuid)
            return Request.json(
                "POST",
                Paths.ORDER_CHECK,
                {"transaction": {"uuid": transaction_uuid}},
                operation="orders.get",
            )
        key = order_key(number, reference_number)
        return Request.json("POST", Paths.ORDER_CHECK, {"order": key}, operation="orders.get")

    @staticmethod
    def _check_request(key: dict[str, str]) -> Request:
        return Request.json(
            "POST", Paths.ORDER_CHECK, {"order": key}, operation="orders.get", expect=order_answer
        )

    @staticmethod
    def _void_request(
        key: dict[str, str], transaction_uuid: str | None, before: dict[str, Any] | None = None
    ) -> Request:
        body: dict[str, Any] = {"order": key}
        if transaction_uuid is not None:
            _check_uuid("transaction.uuid", transaction_uuid)
            body["transaction"] = {"uuid": transaction_uuid}
        return Request.json(
            "POST",
            Paths.ORDER_VOID,
            body,
            idempotent=False,
            operation="orders.void",
            recover=_void_recovery(key, transaction_uuid, before),
            expect=order_answer,
        )

    @staticmethod
    def _refund_request(
        key: dict[str, str], transaction_uuid: str, amount: str, before: frozenset[str]
    ) -> Request:
        body = {
            "order": key,
            "transaction": {"uuid": transaction_uuid},
            "refund": {"amount": amount},
        }
        return Request.json(
            "POST",
            Paths.ORDER_REFUND,
            body,
            idempotent=False,
            operation="orders.refund",
            recover=_refund_recovery(key, transaction_uuid, amount, before),
            expect=order_answer,
        )

    @staticmethod
    def _refund_amount(amount: str | Decimal) -> str:
        value = amount_text("refund.amount", amount, required=True)
        assert value is not None
        if Decimal(value) <= 0:
            raise ValidationError("refund.amount", "positive", "must be above 0")
        return value

    @staticmethod
    def _list_request(
        limit: int,
        offset: int,
        customer_uuid: str | None,
        filters: Mapping[str, Mapping[str, Any]] | None,
    ) -> Request:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationError(
                "page_size", "range", f"must be between 1 and {MAX_PAGE_SIZE} (got {limit})"
            )
        query = [f"limit={limit}", f"offset={offset}"]
        if customer_uuid is not None:
            _check_uuid("customer_uuid", customer_uuid)
            query.append(f"customer_uuid={path_segment(customer_uuid)}")
        query.extend(filter_query(filters))
        return Request("GET", Paths.ORDERS_LIST + "?" + "&".join(query), operation="orders.list")


class Orders(_OrdersRequests, AsyncResource):
    """Orders; pass ``customer_uuid`` to tie one to a customer."""

    __slots__ = ()

    async def create(
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
        return _order(await self._client._execute(request))

    async def get(
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
        return _order(await self._client._execute(request))

    async def list(
        self,
        *,
        customer_uuid: str | None = None,
        filters: Mapping[str, Mapping[str, Any]] | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Order]:
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
            for i, item in enumerate(pager.take(await self._client._execute(request))):
                yield _order(item, f"data.orders[{i}]")

    async def void(
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
            await self._client._execute(self._check_request(key))
            if transaction_uuid is not None
            else None
        )
        request = self._void_request(key, transaction_uuid, before)
        return _order(await self._client._execute(request))

    async def refund(
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
        before = refund_uuids(
            await self._client._execute(self._check_request(key)), transaction_uuid
        )
        request = self._refund_request(key, transaction_uuid, value, before)
        first_sent = time.time()
        try:
            data = await self._client._execute(request)
        except BadRequestError as exc:
            if exc.code != DUPLICATE_REFUND_CODE:
                raise
            # Refused as a repeat: this call's own first attempt, or an earlier refund?
            after = await self._client._execute(self._check_request(key))
            return duplicate_refund_outcome(exc, after, transaction_uuid, value, before, first_sent)
        return refund_from(data, transaction_uuid, before, value)
