"""``wonder.customers``: upsert by reference_number, get, update, list."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any, Final

from .._bulk import bulk_map
from .._converter import structure, structure_at
from .._errors import ValidationError, WonderError
from .._models import Customer, CustomerFields, UpsertResult
from .._request import Request
from .._wire import Paths, path_segment
from ._base import AsyncResource
from ._listing import FILTER_OPS as FILTER_OPS  # re-exported: the emulator's query checks
from ._listing import MAX_PAGE_SIZE, filter_query
from ._paging import Pager

__all__ = ["Customers"]

_LINKED_SOURCE_TYPES: Final = frozenset({"User", "Store"})


def _customer(data: dict[str, Any]) -> Customer:
    return structure_at(data, "customer", Customer)


_ROW_FIELDS: Final = frozenset(
    {
        "reference_number",
        "name",
        "phone",
        "email",
        "dial_code",
        "company_name",
        "default_payment_method",
        "default_payment_token",
    }
)

Rows = Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]]


def row_fields(row: Mapping[str, Any]) -> dict[str, str]:
    """Return a bulk row's upsert arguments: empty values dropped, unknown keys refused.

    :raises ValidationError: naming an unknown column.
    """
    unknown = [k for k in row if k not in _ROW_FIELDS]
    if unknown:
        raise ValidationError(unknown[0], "unknown", "is not a customer field")
    return {k: v for k, v in row.items() if v is not None and v != ""}


def customers_page(pager: Pager, data: dict[str, Any]) -> list[Customer]:
    """The customers of a page of the customers list, ``pager`` moved past them."""
    return [
        structure(item, Customer, f"data.customers[{i}]") for i, item in enumerate(pager.take(data))
    ]


def _check_uuid(field: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "required", "is required")


class _CustomersRequests:
    """Request builders shared by the async and blocking resources."""

    __slots__ = ()

    @staticmethod
    def _upsert_request(fields: CustomerFields) -> Request:
        fields.validate(prefix="customer.", for_upsert=True)
        return Request.json(
            "POST", Paths.CUSTOMERS, {"customer": fields.to_wire()}, operation="customers.upsert"
        )

    @staticmethod
    def _get_request(uuid: str) -> Request:
        _check_uuid("uuid", uuid)
        return Request(
            "GET", Paths.CUSTOMER.format(uuid=path_segment(uuid)), operation="customers.get"
        )

    @staticmethod
    def _get_by_reference_request(reference_number: str) -> Request:
        _check_uuid("reference_number", reference_number)
        return Request(
            "GET",
            Paths.CUSTOMER_BY_REF.format(ref=path_segment(reference_number)),
            operation="customers.get_by_reference",
        )

    @staticmethod
    def _get_by_token_request(token: str) -> Request:
        _check_uuid("token", token)
        return Request.json(
            "POST", Paths.CUSTOMER_BY_TOKEN, {"token": token}, operation="customers.get_by_token"
        )

    @staticmethod
    def _update_request(uuid: str, fields: CustomerFields) -> Request:
        _check_uuid("uuid", uuid)
        if fields.reference_number is not None:
            raise ValidationError(
                "reference_number", "immutable", "cannot be changed by update; upsert instead"
            )
        fields.validate(prefix="", for_upsert=False)
        body = fields.to_wire()
        if not body:
            raise ValidationError("fields", "required", "update needs at least one field")
        return Request.json(
            "PUT",
            Paths.CUSTOMER.format(uuid=path_segment(uuid)),
            body,
            operation="customers.update",
        )

    @staticmethod
    def _list_request(
        limit: int, offset: int, linked_source_type: str | None, filters: Mapping[str, Any] | None
    ) -> Request:
        query = [f"limit={limit}", f"offset={offset}"]
        if linked_source_type is not None:
            if linked_source_type not in _LINKED_SOURCE_TYPES:
                raise ValidationError("linked_source_type", "enum", "must be one of: Store, User")
            query.append(f"linked_source_type={linked_source_type}")
        query.extend(filter_query(filters))
        return Request("GET", Paths.CUSTOMERS + "?" + "&".join(query), operation="customers.list")

    @staticmethod
    def _check_page_size(page_size: int) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationError(
                "page_size", "range", f"must be between 1 and {MAX_PAGE_SIZE} (got {page_size})"
            )


class Customers(_CustomersRequests, AsyncResource):
    """Customer profiles, keyed by Wonder's ``uuid`` and your ``reference_number``."""

    __slots__ = ()

    async def upsert(
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
        return _customer(await self._client._execute(request))

    async def upsert_many(
        self, rows: Rows, *, concurrency: int = 16
    ) -> AsyncIterator[UpsertResult]:
        """Upsert many customers, at most ``concurrency`` at a time, yielding each row's result.

        ``rows`` is any iterable (with ``wonder_async`` also any async iterable) of mappings
        with :meth:`upsert`'s argument names; it is read lazily, so memory stays bounded however
        long the stream. Results come
        in completion order; ``result.index`` is the row's position. A bad or failed row yields
        a result with ``error`` set and the others go on. Retries, deadlines and the 429 pause
        apply per row as for :meth:`upsert`.

        :param rows: mappings with :meth:`upsert`'s argument names, e.g. read from a CSV file.
        :param concurrency: most upserts in flight at once (1-1024).
        :returns: an iterator of one :class:`UpsertResult` per row.
        :raises ValidationError: when ``concurrency`` is out of range.
        """

        async def one(index: int, row: Mapping[str, Any]) -> UpsertResult:
            ref = row.get("reference_number")
            try:
                request = self._upsert_request(CustomerFields(**row_fields(row)))
                customer = _customer(await self._client._execute(request))
            except WonderError as exc:
                return UpsertResult(index, ref, error=exc)
            return UpsertResult(index, ref, customer=customer)

        async for result in bulk_map(rows, one, concurrency=concurrency):
            yield result

    async def get(self, uuid: str) -> Customer:
        """Return the customer with Wonder's ``uuid``.

        :param uuid: Wonder's id of the customer, from :meth:`upsert`.
        :returns: the customer.
        :raises NotFoundError: when there is no such customer.
        """
        return _customer(await self._client._execute(self._get_request(uuid)))

    async def get_by_reference(self, reference_number: str) -> Customer:
        """Return the customer with your ``reference_number``.

        :param reference_number: your own id of the customer, as given to :meth:`upsert`.
        :returns: the customer.
        :raises NotFoundError: when there is no such customer.
        """
        request = self._get_by_reference_request(reference_number)
        return _customer(await self._client._execute(request))

    async def get_by_token(self, token: str) -> Customer:
        """Return the customer who owns the payment ``token``.

        :param token: a payment token's ``token``.
        :returns: the customer.
        :raises NotFoundError: when no customer has this token.
        """
        return _customer(await self._client._execute(self._get_by_token_request(token)))

    async def update(
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
        return _customer(await self._client._execute(self._update_request(uuid, fields)))

    async def list(
        self,
        *,
        page_size: int = 100,
        linked_source_type: str | None = None,
        filters: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> AsyncIterator[Customer]:
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
            for i, item in enumerate(pager.take(await self._client._execute(request))):
                yield structure(item, Customer, f"data.customers[{i}]")
