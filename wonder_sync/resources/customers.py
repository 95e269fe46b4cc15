"""``wonder.customers``: upsert by reference_number, get, update, list.

Blocking twin generated from wonder_async by scripts/gen_sync.py; do not edit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from wonder_async._converter import structure
from wonder_async._models import Customer, CustomerFields
from wonder_async.resources._paging import Pager
from wonder_async.resources.customers import _customer, _CustomersRequests
from wonder_sync.resources._base import SyncResource
from wonder_sync.resources._manual import ManualCustomers as _ManualCustomers

__all__ = ["Customers"]


class Customers(_ManualCustomers, _CustomersRequests, SyncResource):
    """Customer profiles, keyed by Wonder's ``uuid`` and your ``reference_number``."""

    __slots__ = ()

    def upsert(
        self,
        *,
        reference_number: str,
        name: str,
        phone: str,
        email: str | None = None,
        dial_code: str | None = None,
        company_name: str | None = None,
        default_payment_method: str | None = None,
        default_payment_token: str | None = None,
    ) -> Customer:
        """Create the customer, or update the one with this ``reference_number``.

        Idempotent: calling it again with the same ``reference_number`` returns the same
        ``uuid``, so it is retried automatically after timeouts and resets.

        :param reference_number: your own unique id of the customer (at most 255 characters).
        :param name: the customer's name (required).
        :param phone: the phone number without the country code (required).
        :param email: an email address.
        :param dial_code: the phone's country code, e.g. ``+852``.
        :param company_name: the customer's company.
        :param default_payment_method: one of ``Credit Card``, ``Alipay``, ``Wechat Pay``, ...
        :param default_payment_token: a token to make the customer's default.
        :returns: the customer as the gateway stores it, with its ``uuid``.
        :raises ValidationError: before sending, naming the field that breaks a rule.
        """
        request = self._upsert_request(
            CustomerFields(
                name=name,
                phone=phone,
                reference_number=reference_number,
                email=email,
                dial_code=dial_code,
                company_name=company_name,
                default_payment_method=default_payment_method,
                default_payment_token=default_payment_token,
            )
        )
        return _customer(self._client._execute(request))

    def get(self, uuid: str) -> Customer:
        """Return the customer with Wonder's ``uuid``.

        :param uuid: Wonder's id of the customer, from :meth:`upsert`.
        :returns: the customer.
        :raises NotFoundError: when there is no such customer.
        """
        return _customer(self._client._execute(self._get_request(uuid)))

    def get_by_reference(self, reference_number: str) -> Customer:
        """Return the customer with your ``reference_number``.

        :param reference_number: your own id of the customer, as given to :meth:`upsert`.
        :returns: the customer.
        :raises NotFoundError: when there is no such customer.
        """
        request = self._get_by_reference_request(reference_number)
        return _customer(self._client._execute(request))

    def get_by_token(self, token: str) -> Customer:
        """Return the customer who owns the payment ``token``.

        :param token: a payment token's ``token``.
        :returns: the customer.
        :raises NotFoundError: when no customer has this token.
        """
        return _customer(self._client._execute(self._get_by_token_request(token)))

    def update(
        self,
        uuid: str,
        *,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        dial_code: str | None = None,
        company_name: str | None = None,
        default_payment_method: str | None = None,
        default_payment_token: str | None = None,
    ) -> Customer:
        """Change some fields of a customer; fields left as ``None`` stay as they are.

        ``reference_number`` cannot change; upsert with the new one to create a customer.

        :param uuid: Wonder's id of the customer.
        :param name: a new name.
        :param phone: a new phone number.
        :param email: a new email address.
        :param dial_code: a new country code of the phone.
        :param company_name: a new company name.
        :param default_payment_method: a new default payment method, e.g. ``Credit Card``.
        :param default_payment_token: a token to make the customer's default.
        :returns: the customer after the change.
        :raises ValidationError: when no field is given or a field breaks a rule.
        :raises NotFoundError: when there is no such customer.
        """
        fields = CustomerFields(
            name=name,
            phone=phone,
            email=email,
            dial_code=dial_code,
            company_name=company_name,
            default_payment_method=default_payment_method,
            default_payment_token=default_payment_token,
        )
        return _customer(self._client._execute(self._update_request(uuid, fields)))

    def list(
        self,
        *,
        page_size: int = 100,
        linked_source_type: str | None = None,
        filters: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Iterator[Customer]:
        """Iterate over all customers, fetching ``page_size`` (at most 1000) per request.

        :param page_size: customers fetched per request (1-1000).
        :param linked_source_type: only customers linked to this source type.
        :param filters: Query DSL filters, e.g. ``{"name": {"_contains": "Chan"}}``.
        :returns: an iterator over the customers, fetching the next page as you go.
        :raises ValidationError: when ``page_size`` or a filter is invalid.
        """
        self._check_page_size(page_size)
        pager = Pager("customers", page_size)
        while not pager.done:
            request = self._list_request(page_size, pager.offset, linked_source_type, filters)
            for i, item in enumerate(pager.take(self._client._execute(request))):
                yield structure(item, Customer, f"data.customers[{i}]")
