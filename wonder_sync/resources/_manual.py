"""The few blocking methods that cannot be a mechanical copy of their async twin."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from wonder_async._models import UpsertResult
from wonder_async.resources.customers import Customers as _AsyncCustomers

from ._base import SyncResource

__all__ = ["ManualCustomers"]


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
