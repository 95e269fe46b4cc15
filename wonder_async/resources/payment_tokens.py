"""``wonder.payment_tokens``: bind a card through 3-D Secure, check, wait, list, delete."""

from __future__ import annotations

import asyncio
import builtins
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any, Final

from .._bulk import CustomerTokens, TokenCheckResult, bulk_map, check_concurrency
from .._converter import items_at, structure, structure_at
from .._errors import APITimeoutError, ValidationError, WonderError
from .._models import (
    TOKEN_TYPES,
    TRANSACTION_TYPES,
    Card,
    Customer,
    PaymentToken,
    ThreeDS,
    check_enum,
)
from .._request import Request
from .._wire import Paths, path_segment
from ._base import AsyncResource
from ._paging import Pager

__all__ = ["PaymentTokens"]


def _token(data: dict[str, Any]) -> PaymentToken:
    return structure_at(data, "payment_token", PaymentToken)


def tokens_of(data: dict[str, Any]) -> list[PaymentToken]:
    """The tokens of a payment-tokens list answer."""
    return [
        structure(item, PaymentToken, f"data.payment_tokens[{i}]")
        for i, item in enumerate(items_at(data, "payment_tokens"))
    ]


def _required(field: str, value: str | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "required", "is required")
    return value


TokenRef = tuple[str, str | PaymentToken]
"""A token to check: ``(customer_uuid, token)``, the token as its string or the model."""
TokenRefs = Iterable[TokenRef] | AsyncIterable[TokenRef]

#: Customers remembered for de-duplication by :meth:`PaymentTokens.export`, in pages; also
#: how far (plus the calls in flight) the export may work ahead of its checkpoint.
_EXPORT_WINDOW_PAGES: Final = 2


def _tokens_path(customer_uuid: str) -> str:
    return Paths.PAYMENT_TOKENS.format(uuid=path_segment(_required("customer_uuid", customer_uuid)))


class _PaymentTokensRequests:
    """Request builders shared by the async and blocking resources."""

    __slots__ = ()

    @staticmethod
    def _create_request(
        customer_uuid: str, card: Card, three_ds: ThreeDS, transaction_type: str
    ) -> Request:
        path = _tokens_path(customer_uuid)
        if not isinstance(card, Card):
            raise ValidationError("card", "type", "must be a wonder Card(...)")
        if not isinstance(three_ds, ThreeDS):
            raise ValidationError("three_ds", "type", "must be a wonder ThreeDS(...)")
        check_enum("card.transaction_type", transaction_type, TRANSACTION_TYPES)
        body: dict[str, Any] = {
            "number": card.number,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "holder_name": card.holder_name,
        }
        if card.cvv is not None:
            body["cvv"] = card.cvv
        if card.nickname is not None:
            body["nickname"] = card.nickname
        if card.billing_address is not None:
            address = {
                k: v
                for k, v in (
                    ("first_name", card.billing_address.first_name),
                    ("last_name", card.billing_address.last_name),
                    ("address", card.billing_address.address),
                    ("city", card.billing_address.city),
                    ("state", card.billing_address.state),
                    ("zip_code", card.billing_address.zip_code),
                    ("country_code", card.billing_address.country_code),
                    ("phone_number", card.billing_address.phone_number),
                    ("email", card.billing_address.email),
                )
                if v is not None
            }
            body["billing_address"] = address
        body["3ds"] = {
            "success_return_url": three_ds.success_return_url,
            "fail_return_url": three_ds.fail_return_url,
        }
        body["transaction_type"] = transaction_type
        return Request.json(
            "POST",
            path,
            {"card": body},
            idempotent=False,
            operation="payment_tokens.create",
            reconcile=(
                f"call payment_tokens.list({customer_uuid!r}) to see whether the card "
                f"{card.masked_number} was bound before trying again"
            ),
        )

    @staticmethod
    def _check_request(customer_uuid: str, token: str, verify_uuid: str | None) -> Request:
        path = Paths.PAYMENT_TOKEN_CHECK.format(
            uuid=path_segment(_required("customer_uuid", customer_uuid))
        )
        payload: dict[str, str] = {"token": _required("token", token)}
        if verify_uuid is not None:
            payload["verify_uuid"] = verify_uuid
        return Request.json(
            "POST", path, {"payment_token": payload}, operation="payment_tokens.check"
        )

    @staticmethod
    def _list_request(customer_uuid: str, token_type: str | None) -> Request:
        path = _tokens_path(customer_uuid)
        if token_type is not None:
            for part in token_type.split(","):
                check_enum("token_type", part, TOKEN_TYPES)
            path += f"?token_type={path_segment(token_type).replace('%2C', ',')}"
        return Request("GET", path, operation="payment_tokens.list")

    @staticmethod
    def _delete_request(customer_uuid: str, token: str) -> Request:
        path = _tokens_path(customer_uuid)
        return Request.json(
            "DELETE",
            path,
            {"token": _required("token", token)},
            operation="payment_tokens.delete",
        )


class PaymentTokens(_PaymentTokensRequests, AsyncResource):
    """Saved payment methods of a customer (cards bound through 3-D Secure)."""

    __slots__ = ()

    async def create(
        self,
        customer_uuid: str,
        *,
        card: Card,
        three_ds: ThreeDS,
        transaction_type: str = "unscheduled_cof",
    ) -> PaymentToken:
        """Bind a card to the customer as a payment token.

        The result's ``state`` is ``success`` (usable now), ``pending`` (send the cardholder to
        ``verify_url``, then :meth:`check` or :meth:`wait`) or ``failed`` (see ``error_code``).
        Not retried after an ambiguous failure, since a repeat could bind the card twice; the
        error then says how to reconcile.

        :param customer_uuid: the customer's ``uuid`` from :meth:`Customers.upsert`.
        :param card: the card; validated (Luhn, expiry) before anything is sent.
        :param three_ds: where the cardholder returns after the 3-D Secure challenge.
        :param transaction_type: how the token will be charged, e.g. ``unscheduled_cof``.
        :returns: the new token; look at its ``state`` (a declined card is ``failed``, not an
            exception).
        :raises ValidationError: before sending, naming the field that breaks a rule.
        """
        request = self._create_request(customer_uuid, card, three_ds, transaction_type)
        return _token(await self._client._execute(request))

    async def check(
        self, customer_uuid: str, token: str, *, verify_uuid: str | None = None
    ) -> PaymentToken:
        """Return the token's current state (e.g. after the 3-D Secure redirect).

        :param customer_uuid: the token owner's ``uuid``.
        :param token: the token's ``token`` string.
        :param verify_uuid: the ``verify_uuid`` from :meth:`create`, sent when given.
        :returns: the token with its current ``state``.
        :raises NotFoundError: when the token does not exist (or was deleted).
        """
        request = self._check_request(customer_uuid, token, verify_uuid)
        return _token(await self._client._execute(request))

    async def wait(
        self,
        customer_uuid: str,
        token: PaymentToken,
        *,
        timeout: float = 30.0,
        interval: float = 1.0,
    ) -> PaymentToken:
        """Poll :meth:`check` until the token leaves ``pending``; return its final state.

        :param customer_uuid: the token owner's ``uuid``.
        :param token: the token :meth:`create` returned.
        :param timeout: seconds to wait in all.
        :param interval: seconds between checks.
        :returns: the token once its ``state`` is no longer ``pending``.
        :raises APITimeoutError: when the token is still pending after ``timeout``.
        """
        token_id = _required("token.token", token.token)
        deadline = time.monotonic() + timeout
        current = token
        while current.is_pending:
            if time.monotonic() + interval > deadline:
                raise APITimeoutError(
                    f"payment token still pending after {timeout:g}s; the cardholder has not "
                    f"finished 3-D Secure at its verify_url"
                )
            await self._client._sleep(interval)
            current = await self.check(customer_uuid, token_id, verify_uuid=token.verify_uuid)
        return current

    async def list(
        self, customer_uuid: str, *, token_type: str | None = None
    ) -> builtins.list[PaymentToken]:
        """Return the customer's payment tokens.

        :param customer_uuid: the customer's ``uuid``.
        :param token_type: filter, e.g. ``CreditCard`` or a comma-separated list.
        :returns: the tokens, in the gateway's order.
        :raises ValidationError: for an unknown ``token_type``.
        """
        return tokens_of(await self._client._execute(self._list_request(customer_uuid, token_type)))

    async def delete(self, customer_uuid: str, token: str) -> None:
        """Delete the customer's payment token for good.

        :param customer_uuid: the token owner's ``uuid``.
        :param token: the token's ``token`` string.
        :raises NotFoundError: when the token does not exist.
        """
        await self._client._execute(self._delete_request(customer_uuid, token))

    async def check_many(
        self, tokens: TokenRefs, *, concurrency: int = 16
    ) -> AsyncIterator[TokenCheckResult]:
        """Refresh many tokens' states at once, e.g. every token still pending 3-D Secure.

        ``tokens`` yields ``(customer_uuid, token)`` pairs, ``token`` being the token string or
        the :class:`PaymentToken` (whose ``verify_uuid`` is then sent too); it is read lazily.
        Results come in completion order, ``result.index`` being the pair's position; a
        failed check (e.g. a deleted token: ``NotFoundError``) is a result with ``error`` set.
        Retries and the 429 pause apply per token as for :meth:`check`.

        :param tokens: ``(customer_uuid, token)`` pairs, read lazily.
        :param concurrency: most checks in flight at once (1-1024).
        :returns: an iterator of one :class:`TokenCheckResult` per pair.
        :raises ValidationError: when ``concurrency`` is out of range.
        """

        async def one(index: int, pair: TokenRef) -> TokenCheckResult:
            customer_uuid, token = pair
            if isinstance(token, PaymentToken):
                token_id, verify_uuid = token.token, token.verify_uuid
            else:
                token_id, verify_uuid = token, None
            try:
                request = self._check_request(customer_uuid, token_id or "", verify_uuid)
                checked = _token(await self._client._execute(request))
            except WonderError as exc:
                return TokenCheckResult(index, customer_uuid, token_id, error=exc)
            return TokenCheckResult(index, customer_uuid, token_id, payment_token=checked)

        async for result in bulk_map(tokens, one, concurrency=concurrency):
            yield result

    async def export(
        self,
        *,
        concurrency: int = 16,
        token_type: str | None = None,
        page_size: int = 1000,
        start_offset: int = 0,
        skip_customers: Iterable[str] = (),
    ) -> AsyncIterator[CustomerTokens]:
        """Every customer's tokens: pages through all customers and lists their tokens.

        Customers are read ``page_size`` (at most 1000) at a time, the next page fetched while
        the current one is worked on; up to ``concurrency`` token lists are in flight. One
        :class:`CustomerTokens` per customer, in completion order. Memory stays bounded
        whatever the number of customers: two pages, the calls in flight, and the last two
        pages' customer uuids for de-duplication; a slow customer holds the others back at
        most two pages (plus ``concurrency``) past it, so ``offset - resume_offset`` of a
        result never exceeds ``2 * page_size + concurrency``. A customer whose tokens could
        not be read (after retries) is a result with ``error`` set.

        Customers created or deleted during the export move the others' offsets: a customer
        seen in the last two pages is never yielded twice, even if it moved. To resume a killed
        export, pass the last result's ``resume_offset`` as ``start_offset`` and the uuids of
        the customers already handled at or after it as ``skip_customers``.

        :param concurrency: most token lists in flight at once (1-1024).
        :param token_type: only tokens of this type (a comma-separated list), e.g. ``CreditCard``.
        :param page_size: customers read per request (1-1000).
        :param start_offset: the customer offset to start at (a result's ``resume_offset``).
        :param skip_customers: uuids of customers already handled, not listed again.
        :returns: an iterator of one :class:`CustomerTokens` per customer.
        :raises ValidationError: when an argument is out of range.
        """
        from .customers import Customers, customers_page

        check_concurrency(concurrency)
        Customers._check_page_size(page_size)
        if isinstance(start_offset, bool) or not isinstance(start_offset, int) or start_offset < 0:
            raise ValidationError("start_offset", "range", "must be an integer >= 0")
        if token_type is not None:
            self._list_request("-", token_type)  # validate the filter before any call
        client = self._client
        window = _EXPORT_WINDOW_PAGES * page_size + concurrency
        seen: OrderedDict[str, None] = OrderedDict((u, None) for u in skip_customers)
        issued: deque[int] = deque()  # offsets in flight, in order
        finished: set[int] = set()
        next_offset = start_offset  # every customer before it was issued or skipped
        # Set (and replaced) whenever the checkpoint moves: a customer more than ``window``
        # past it waits, so one slow customer cannot make issued/finished (and a caller's
        # record of what it wrote since the checkpoint) grow with the rest of the export.
        moved = asyncio.Event()

        async def page_at(offset: int) -> dict[str, Any]:
            return await client._execute(Customers._list_request(page_size, offset, None, None))

        async def customers() -> AsyncIterator[tuple[int, Customer]]:
            nonlocal next_offset
            pager = Pager("customers", page_size, start_offset)
            fetch = asyncio.ensure_future(page_at(pager.offset))
            try:
                while True:
                    offset = pager.offset
                    page = customers_page(pager, await fetch)
                    more = not pager.done
                    if more:
                        fetch = asyncio.ensure_future(page_at(pager.offset))
                    for position, customer in enumerate(page, start=offset):
                        uuid = customer.uuid or ""
                        next_offset = position + 1
                        if uuid in seen:
                            continue
                        seen[uuid] = None
                        if len(seen) > window:
                            seen.popitem(last=False)
                        issued.append(position)
                        yield position, customer
                    if not more:
                        return
            finally:
                fetch.cancel()

        async def one(_index: int, item: tuple[int, Customer]) -> CustomerTokens:
            position, customer = item
            while position - issued[0] >= window:
                await moved.wait()
            try:
                request = self._list_request(customer.uuid or "", token_type)
                tokens = tokens_of(await client._execute(request))
            except WonderError as exc:
                return CustomerTokens(position, customer, error=exc)
            return CustomerTokens(position, customer, tokens)

        async for result in bulk_map(customers(), one, concurrency=concurrency):
            # The checkpoint moves only over results handed to the caller, so a caller that
            # saves it after handling each result never skips a customer it did not see.
            finished.add(result.offset)
            if issued[0] in finished:
                while issued and issued[0] in finished:
                    finished.discard(issued.popleft())
                moved.set()
                moved = asyncio.Event()
            resume = issued[0] if issued else next_offset
            yield CustomerTokens(
                result.offset, result.customer, result.tokens, result.error, resume_offset=resume
            )
