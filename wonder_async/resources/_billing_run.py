"""Billing runs: the batch look-up that lets ``payments.create_many`` skip a look-up per row.

Before charging, a run reads the orders of each batch of rows in one orders-list read
(``filter[reference_number][_in]``); a row whose order holds no charge of its ``payment_uuid``
is charged without a look-up of its own. :class:`RunLedger` stops a row from trusting a batch
look-up that may not have seen another row of the same run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final

from .._bulk import aiter_items
from .._errors import WonderError
from .._request import Request
from .orders import _OrdersRequests

if TYPE_CHECKING:
    from .._client import WonderClient

__all__ = ["LOOKED_UP", "PRECHECK_BATCH", "UNCHECKED", "Charges", "RunLedger", "prechecked"]

Charges = Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]]

#: Rows of a bulk charge looked up together: one orders-list read per batch instead of a
#: look-up per row before charging.
PRECHECK_BATCH: Final = 100
#: The orders list page the batch look-up reads; a full page means "could not tell".
_PRECHECK_LIMIT: Final = 1000
UNCHECKED: Final = object()
#: Set in a bulk charge's own task when the batch look-up already showed the row uncharged.
LOOKED_UP: ContextVar[bool] = ContextVar("wonder_charge_looked_up", default=False)


async def _orders_by_reference(
    client: WonderClient, references: list[str]
) -> dict[str, dict[str, Any]] | None:
    """The orders (raw, with transactions) of these references, in one orders-list read with
    ``filter[reference_number][_in]``; ``None`` when the answer cannot be trusted to be
    complete (the read failed, the filter was not honoured, or the page was full)."""
    request = _list_request_for(references)
    try:
        data = await client._execute(request)
    except WonderError:
        return None
    wanted = set(references)
    found: dict[str, dict[str, Any]] = {}
    page = data.get("orders")
    if not isinstance(page, list) or len(page) >= _PRECHECK_LIMIT:
        return None
    for item in page:
        order = item.get("order") if isinstance(item, dict) else None
        ref = order.get("reference_number") if isinstance(order, dict) else None
        if not isinstance(ref, str) or ref not in wanted:
            return None  # a gateway that ignores the filter: look each row up instead
        found[ref] = {"order": order}
    return found


def _list_request_for(references: list[str]) -> Request:
    filters = {"reference_number": {"_in": references}}
    return _OrdersRequests._list_request(_PRECHECK_LIMIT, 0, None, filters)


def _batch_reference(row: Mapping[str, Any]) -> str | None:
    """The order reference a row can be looked up by in a batch (``_in`` splits on commas)."""
    ref = row.get("reference_number")
    if not isinstance(ref, str) or not ref or "," in ref or row.get("payment_uuid"):
        # A row with its own payment_uuid is looked up by create(), as any caller id is.
        return None
    return ref


class RunLedger:
    """The charges of one ``create_many`` run that a batch look-up may not have seen.

    A row whose ``payment_uuid`` another row of this run is charging, or charged after the
    look-up its batch relies on, must not trust that look-up: it waits for the other row and
    then looks up on its own. Entries finished before the look-up of the batch being handed out
    are dropped (every later look-up sees them), so memory stays bounded by what is in flight.
    """

    def __init__(self) -> None:
        self.active: dict[str, asyncio.Event] = {}
        self.finished: dict[str, float] = {}

    def prune(self, looked_up_at: float) -> None:
        for uuid, when in list(self.finished.items()):
            if when < looked_up_at:
                del self.finished[uuid]
                del self.active[uuid]

    def begin(self, uuid: str) -> asyncio.Event | None:
        """Claim ``uuid``; return the event of the row holding it, or ``None`` if unclaimed."""
        held = self.active.get(uuid)
        if held is None:
            self.active[uuid] = asyncio.Event()
        return held

    def end(self, uuid: str) -> None:
        self.finished[uuid] = time.monotonic()
        self.active[uuid].set()


async def _lookup_batch(
    client: WonderClient, rows: list[Mapping[str, Any]]
) -> tuple[float, dict[str, dict[str, Any]] | None]:
    refs = sorted({r for r in map(_batch_reference, rows) if r is not None})
    started = time.monotonic()  # charges finished before this are in the answer
    return started, (await _orders_by_reference(client, refs) if refs else None)


async def prechecked(
    client: WonderClient, charges: Charges, batch: int, ledger: RunLedger
) -> AsyncIterator[tuple[Mapping[str, Any], Any]]:
    """Yield each row with what a batch look-up found: the order's data (``None`` when the
    order does not exist yet), or ``UNCHECKED`` when the row must be looked up on its own.
    The next batch is looked up while this one is handed out, so charging never waits for it.
    """
    queue: list[tuple[list[Mapping[str, Any]], asyncio.Future[Any]]] = []

    async def emit() -> AsyncIterator[tuple[Mapping[str, Any], Any]]:
        rows, lookup = queue.pop(0)
        looked_up_at, orders = await lookup
        ledger.prune(looked_up_at)
        for row in rows:
            ref = _batch_reference(row)
            yield row, (UNCHECKED if orders is None or ref is None else orders.get(ref))

    chunk: list[Mapping[str, Any]] = []
    try:
        async for row in aiter_items(charges):
            chunk.append(row)
            if len(chunk) >= batch:
                queue.append((chunk, asyncio.ensure_future(_lookup_batch(client, chunk))))
                chunk = []
                if len(queue) > 1:
                    async for item in emit():
                        yield item
        if chunk:
            queue.append((chunk, asyncio.ensure_future(_lookup_batch(client, chunk))))
        while queue:
            async for item in emit():
                yield item
    finally:
        for _rows, lookup in queue:
            lookup.cancel()
