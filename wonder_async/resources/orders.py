"""``wonder.orders``: create, look up (with transactions), list, void and refund orders."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from .._converter import object_at, structure, structure_at
from .._errors import BadRequestError, ValidationError
from .._models import MAX_TOKEN_LENGTH, Order, Refund, Transaction, check_text
from .._request import Recover, Request
from .._wire import Paths, path_segment
from ._base import AsyncResource
from ._listing import MAX_PAGE_SIZE, filter_query
from ._order_fields import amount_text, order_fields, order_key
from ._paging import Pager
from ._recovery import RECOVERED, recover_from_order

__all__ = ["Orders"]


def _order(data: dict[str, Any], path: str = "data") -> Order:
    data = object_at(data, path)
    order = data.get("order")
    if isinstance(order, dict) and data.get("payment_link") is not None:
        order = {**order, "payment_link": data["payment_link"]}
    return structure(order, Order, f"{path}.order")


def order_answer(data: dict[str, Any]) -> None:
    """A request's ``expect``: the answer holds a readable order (``data.order``), so the
    look-ups and checks that read it raw meet the documented types only."""
    structure_at(data, "order", Order)


def _transactions(data: dict[str, Any]) -> list[dict[str, Any]]:
    order = data.get("order")
    found = order.get("transactions") if isinstance(order, dict) else None
    return [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []


def _check_uuid(field: str, value: str) -> None:
    check_text(field, value, required=True, max_length=MAX_TOKEN_LENGTH)


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
