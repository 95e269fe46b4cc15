"""The one bulk engine: many calls, at most N in flight, results as they finish.

Every bulk operation of the SDK (``customers.upsert_many``, ``payment_tokens.check_many``,
``payment_tokens.export``, ``payments.create_many``) is :func:`bulk_map` over its input with a
per-item coroutine. The engine itself knows nothing about HTTP: each item's coroutine goes
through the client pipeline (``WonderClient._execute``), so retries, the call deadline and the
shared 429 pause apply per item exactly as for a single call, and a failed item is a result
(the coroutine catches :class:`~wonder_async.WonderError`), never the end of the run.

Properties the callers rely on:

- **lazy input**: the next item is pulled (from a plain or an async iterable) only when a slot
  is free, so memory is bounded by ``concurrency`` however long the input;
- **completion order**: results are yielded as items finish; each carries its input index;
- **clean exit**: closing the iterator early (``break``, an exception, Ctrl-C) cancels the
  items still in flight and waits for them, so nothing runs on after the caller has gone.
"""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Final, TypeVar

import attrs

from ._errors import ValidationError, WonderError
from ._models import Customer, Payment, PaymentToken
from ._redact import scrubbed_repr

__all__ = [
    "CHARGE_NAMESPACE",
    "MAX_CONCURRENCY",
    "ChargeResult",
    "CustomerTokens",
    "TokenCheckResult",
    "aiter_items",
    "bulk_map",
    "charge_uuid",
    "check_concurrency",
]

T = TypeVar("T")
R = TypeVar("R")

#: The most items a bulk call keeps in flight.
MAX_CONCURRENCY: Final = 1024


#: The UUIDv5 namespace of derived charge ids: ``uuid5(NAMESPACE_URL,
#: "https://github.com/wonder-sdk/charge")``. Fixed forever: changing it would let a rerun of
#: an old billing file charge again.
CHARGE_NAMESPACE: Final = uuidlib.UUID("50f480fb-90db-560d-ba01-56bdd19a726f")


def charge_uuid(reference_number: str, amount: str, token: str) -> str:
    """The ``payment_uuid`` of a bulk charge row that names none: the same row always gets
    the same one, so a rerun of a billing file can never charge a row twice.

    ``str(uuid5(CHARGE_NAMESPACE, f"{reference_number}|{amount}|{token}"))`` where ``amount`` is
    the gateway's two-place text (``"21"``, ``"21.0"`` and ``"21.00"`` all give ``"21.00"``)
    and ``reference_number`` is the order's reference (or, for a row naming the order by
    Wonder's ``number`` only, ``"#"`` + that number).

    :param reference_number: the order's reference, or ``"#"`` + Wonder's order number.
    :param amount: the amount as the gateway's two-place text, e.g. ``"21.00"``.
    :param token: the payment token charged.
    :returns: the payment uuid, a UUID string.
    """
    return str(uuidlib.uuid5(CHARGE_NAMESPACE, f"{reference_number}|{amount}|{token}"))


def check_concurrency(concurrency: int) -> None:
    """:raises ValidationError: unless ``1 <= concurrency <= MAX_CONCURRENCY``."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise ValidationError("concurrency", "type", "must be an integer")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValidationError(
            "concurrency", "range", f"must be between 1 and {MAX_CONCURRENCY} (got {concurrency})"
        )


async def aiter_items(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    """Iterate a plain or an async iterable asynchronously, one item at a time."""
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def bulk_map(
    items: Iterable[T] | AsyncIterable[T],
    work: Callable[[int, T], Awaitable[R]],
    *,
    concurrency: int,
) -> AsyncIterator[R]:
    """Run ``work(index, item)`` for every item, at most ``concurrency`` at once.

    Yields each result as its item finishes. ``work`` should turn an item's failure into a
    result; an exception it lets out ends the run (after cancelling the rest).

    :raises ValidationError: when ``concurrency`` is out of range (on first iteration).
    """
    check_concurrency(concurrency)
    pending: set[asyncio.Future[R]] = set()
    index = 0
    try:
        async for item in aiter_items(items):
            if len(pending) >= concurrency:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    yield task.result()
            pending.add(asyncio.ensure_future(work(index, item)))
            index += 1
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                yield task.result()
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


# --- per-item results of the bulk calls ----------------------------------------------------


@attrs.frozen
class ChargeResult:
    """Outcome of one row of ``payments.create_many``: ``payment`` or ``error`` is set.

    ``payment_uuid`` is the id the row was charged with (its own, or :func:`charge_uuid`);
    it is ``None`` only when the row was refused before one could be derived. A declined
    card is a :class:`~wonder_async.CardDeclinedError` in ``error`` (with ``code``). A charge
    the gateway has not settled yet has ``payment`` with ``payment.status == "pending"``:
    :attr:`status` ``pending``, neither ``ok`` nor failed; running the row again (the same
    ``payment_uuid``) looks it up and never charges it twice.
    """

    index: int
    reference_number: str | None
    payment_uuid: str | None
    payment: Payment | None = None
    error: WonderError | None = None

    @property
    def ok(self) -> bool:
        """The row's charge went through (now, or by an earlier run: ``payment.recovered``)."""
        return self.error is None and self.payment is not None and not self.payment.pending

    @property
    def pending(self) -> bool:
        """The row was charged but the gateway has not settled it yet (not paid, not declined)."""
        return self.error is None and self.payment is not None and self.payment.pending

    @property
    def status(self) -> str:
        """``succeeded``, ``pending`` or ``failed`` (``error`` says why)."""
        if self.error is not None or self.payment is None:
            return "failed"
        return self.payment.status


@attrs.frozen
class TokenCheckResult:
    """Outcome of one token of ``payment_tokens.check_many``: ``payment_token`` or ``error``."""

    index: int
    customer_uuid: str | None
    token: str | None
    payment_token: PaymentToken | None = None
    error: WonderError | None = None

    @property
    def ok(self) -> bool:
        """The token's current state was read."""
        return self.error is None


@attrs.frozen
class CustomerTokens:
    """One customer of ``payment_tokens.export``: its tokens, or the error reading them.

    ``offset`` is the customer's position in the customer list. ``resume_offset`` is the
    export's checkpoint when this result was yielded: every customer before it has been
    yielded already, so ``export(start_offset=resume_offset, ...)`` continues the run.
    """

    offset: int
    customer: Customer
    tokens: list[PaymentToken] = attrs.field(factory=list)
    error: WonderError | None = None
    resume_offset: int = 0

    @property
    def ok(self) -> bool:
        """The customer's tokens were read."""
        return self.error is None


for _result in (ChargeResult, TokenCheckResult, CustomerTokens):
    scrubbed_repr(_result)  # they hold the gateway's answers and errors
del _result
