"""``wonder.orders``: create an order for a customer, look one up.

Blocking twin generated from wonder_async by scripts/gen_sync.py; do not edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from wonder_async._models import Order
from wonder_async.resources.orders import _order, _OrdersRequests
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
        return _order(self._client._execute(request))

    def get(self, *, number: str | None = None, reference_number: str | None = None) -> Order:
        """Look an order up by Wonder's ``number`` or your ``reference_number``.

        :raises NotFoundError: when there is no such order.
        """
        return _order(self._client._execute(self._get_request(number, reference_number)))
