"""Look up, then decide: what makes charges, refunds and voids safe to retry.

A call that moves money is retried only after a read-only look-up says it did not take effect.
The pipeline (``WonderClient._execute``) calls a request's ``recover`` after every failure that
:func:`~wonder_async._retry.may_have_happened` (the retry policy's module); the resources
build their ``recover`` with :func:`recover_from_order`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from .._converter import structure_at
from .._errors import NotFoundError, OutcomeUnknownError, WonderError
from .._models import Order
from .._request import Recover, Request
from .._wire import Paths

if TYPE_CHECKING:
    from .._client import WonderClient


def _readable_order(data: dict[str, Any]) -> None:
    # A look-up answer of the wrong shape fails inside the look-up, so it ends as
    # OutcomeUnknownError below, and ``found`` only ever reads the documented types.
    structure_at(data, "order", Order)


__all__ = ["RECOVERED", "recover_from_order"]

#: The key a look-up adds to the data it returns, so results can say ``recovered``.
RECOVERED: Final = "__wonder_recovered__"
#: A look-up after the deadline still gets this long: telling the caller "unknown" when one
#: more read would tell the truth is worse than a short overrun.
_MIN_LOOKUP_TIME: Final = 1.0


def recover_from_order(
    key: dict[str, str],
    found: Callable[[dict[str, Any]], bool],
    what: str,
    *,
    payment_uuid: str | None = None,
) -> Recover:
    """A request's ``recover``: read the order named by ``key`` (Query order, with every
    transaction on it) and return it, marked :data:`RECOVERED`, when ``found`` says the effect
    is there; ``None`` when it is not, or when the order does not exist (404).

    A look-up after the deadline still gets :data:`_MIN_LOOKUP_TIME`.

    :raises OutcomeUnknownError: (from the returned coroutine) when the look-up itself fails,
        so nobody can tell.
    """
    lookup = Request.json(
        "POST", Paths.ORDER_CHECK, {"order": key}, operation="orders.get", expect=_readable_order
    )

    async def recover(client: WonderClient, deadline: float) -> dict[str, Any] | None:
        remaining = max(deadline - time.monotonic(), _MIN_LOOKUP_TIME)
        try:
            data = await client.with_options(timeout=remaining)._execute(lookup)
        except NotFoundError:
            return None
        except WonderError as exc:
            raise OutcomeUnknownError(
                f"{what} may or may not have happened: looking it up failed ({exc})",
                payment_uuid=payment_uuid,
                request_id=exc.request_id,
            ) from exc
        return {**data, RECOVERED: True} if found(data) else None

    return recover
