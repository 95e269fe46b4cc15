"""``wonder.orders``: create an order for a customer, look one up."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from .._converter import structure
from .._errors import ValidationError
from .._models import Order, check_text
from .._request import Request
from .._wire import Paths
from ._base import AsyncResource

__all__ = ["Orders"]


def _amount(field: str, value: str | Decimal | None, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise ValidationError(field, "required", "is required")
        return None
    if isinstance(value, float):
        raise ValidationError(field, "type", "must be a str or Decimal, never a float")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(
            field, "amount", f"must be a decimal amount (got {value!r})"
        ) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(field, "amount", "must be a non-negative amount")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError(field, "amount", "must have at most 2 decimal places")
    return f"{amount:.2f}"


def _order(data: dict[str, Any]) -> Order:
    order = data.get("order")
    if isinstance(order, dict) and data.get("payment_link") is not None:
        order = {**order, "payment_link": data["payment_link"]}
    return structure(order, Order)


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
        check_text("order.reference_number", reference_number, required=True, max_length=255)
        check_text("order.currency", currency, required=True, max_length=3)
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            raise ValidationError("order.currency", "iso4217", "must be a code like 'HKD'")
        order: dict[str, Any] = {
            "reference_number": reference_number,
            "charge_fee": _amount("order.charge_fee", charge_fee, required=True),
            "currency": currency,
        }
        tips = _amount("order.tips", extra.pop("tips"), required=False)
        if tips is not None:
            order["tips"] = tips
        note = extra.pop("note")
        check_text("order.note", note, required=False, max_length=254)
        for key, value in (("note", note), *extra.items()):
            if value is not None:
                order[key] = value
        payload: dict[str, Any] = {"order": order}
        if customer_uuid is not None:
            check_text("customer_uuid", customer_uuid, required=True, max_length=64)
            payload["customer_uuid"] = customer_uuid
        uri = Paths.ORDERS + ("?with_payment_link=true" if with_payment_link else "")
        return Request.json(
            "POST",
            uri,
            payload,
            idempotent=False,
            reconcile=(
                f"call orders.get(reference_number={reference_number!r}) to see whether the "
                f"order exists before trying again"
            ),
        )

    @staticmethod
    def _get_request(number: str | None, reference_number: str | None) -> Request:
        if (number is None) == (reference_number is None):
            raise ValidationError(
                "number", "one_of", "give exactly one of number or reference_number"
            )
        key, value = (
            ("number", number) if number is not None else ("reference_number", reference_number)
        )
        return Request.json("POST", Paths.ORDER_CHECK, {"order": {key: value}})


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

        :param charge_fee: the amount as ``str`` or ``Decimal`` (never ``float``), e.g. "21.00".
        :param currency: ISO 4217 code, e.g. ``HKD``.
        :param customer_uuid: the customer's ``uuid`` from :meth:`Customers.upsert`.
        :param with_payment_link: also return ``payment_link`` for the customer to pay at.
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

    async def get(self, *, number: str | None = None, reference_number: str | None = None) -> Order:
        """Look an order up by Wonder's ``number`` or your ``reference_number``.

        :raises NotFoundError: when there is no such order.
        """
        return _order(await self._client._execute(self._get_request(number, reference_number)))
