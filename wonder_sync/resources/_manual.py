"""The few blocking methods that cannot be a mechanical copy of their async twin."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from wonder_async._bulk import ChargeResult, CustomerTokens, TokenCheckResult
from wonder_async._models import UpsertResult
from wonder_async.resources.customers import Customers as _AsyncCustomers
from wonder_async.resources.payment_tokens import PaymentTokens as _AsyncPaymentTokens
from wonder_async.resources.payment_tokens import TokenRef
from wonder_async.resources.payments import Payments as _AsyncPayments

from ._base import SyncResource

__all__ = ["ManualCustomers", "ManualPaymentTokens", "ManualPayments"]


class ManualCustomers(SyncResource):
    """Bulk upsert runs the async implementation on the client's event loop."""

    __slots__ = ()

    def upsert_many(
        self, rows: Iterable[Mapping[str, Any]], *, concurrency: int = 16
    ) -> Iterator[UpsertResult]:
        # The docstring is the async twin's (assigned below), so the two cannot drift.
        return self._client._iterate(
            lambda wonder: wonder.customers.upsert_many(rows, concurrency=concurrency)
        )

    upsert_many.__doc__ = _AsyncCustomers.upsert_many.__doc__


class ManualPaymentTokens(SyncResource):
    """Bulk token checks and the export run the async implementation on the client's loop."""

    __slots__ = ()

    def check_many(
        self, tokens: Iterable[TokenRef], *, concurrency: int = 16
    ) -> Iterator[TokenCheckResult]:
        return self._client._iterate(
            lambda wonder: wonder.payment_tokens.check_many(tokens, concurrency=concurrency)
        )

    def export(
        self,
        *,
        concurrency: int = 16,
        token_type: str | None = None,
        page_size: int = 1000,
        start_offset: int = 0,
        skip_customers: Iterable[str] = (),
    ) -> Iterator[CustomerTokens]:
        return self._client._iterate(
            lambda wonder: wonder.payment_tokens.export(
                concurrency=concurrency,
                token_type=token_type,
                page_size=page_size,
                start_offset=start_offset,
                skip_customers=skip_customers,
            )
        )

    check_many.__doc__ = _AsyncPaymentTokens.check_many.__doc__
    export.__doc__ = _AsyncPaymentTokens.export.__doc__


class ManualPayments(SyncResource):
    """Bulk charges run the async implementation on the client's event loop."""

    __slots__ = ()

    def create_many(
        self, charges: Iterable[Mapping[str, Any]], *, concurrency: int = 16
    ) -> Iterator[ChargeResult]:
        return self._client._iterate(
            lambda wonder: wonder.payments.create_many(charges, concurrency=concurrency)
        )

    create_many.__doc__ = _AsyncPayments.create_many.__doc__
