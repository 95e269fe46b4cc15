"""Look up, then decide: what makes charges, refunds and voids safe to retry.

A call that moves money is retried only after a read-only look-up says it did not take effect.
The pipeline (``WonderClient._execute``) calls a request's ``recover`` after every failure that
:func:`may_have_happened`; the resources build their ``recover`` with :func:`recover_by_lookup`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from .._errors import (
    APIConnectionError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    WonderError,
)
from .._request import Request

if TYPE_CHECKING:
    from .._client import WonderClient

__all__ = ["RECOVERED", "may_have_happened", "recover_by_lookup"]

#: The key a look-up adds to the data it returns, so results can say ``recovered``.
RECOVERED: Final = "__wonder_recovered__"
#: A look-up after the deadline still gets this long: telling the caller "unknown" when one
#: more read would tell the truth is worse than a short overrun.
_MIN_LOOKUP_TIME: Final = 1.0


def may_have_happened(exc: WonderError) -> bool:
    """Whether a failed unsafe call may still have taken effect at the gateway.

    A refused connection never left this machine and a 429 is refused before processing;
    other 4xx answers are definite. Timeouts, resets, garbled bodies and 5xx are not.
    """
    if isinstance(exc, APIConnectionError):
        return exc.sent
    if isinstance(exc, RateLimitError):
        return False
    return isinstance(exc, ServerError)


async def recover_by_lookup(
    client: WonderClient,
    deadline: float,
    lookups: Sequence[Request],
    found: Callable[[dict[str, Any]], bool],
    what: str,
    *,
    payment_uuid: str | None = None,
) -> dict[str, Any] | None:
    """Run the read-only ``lookups`` in turn; return the first answer ``found`` accepts, marked
    :data:`RECOVERED`, or ``None`` when none shows the effect (404s count as "not there").

    :raises OutcomeUnknownError: when a look-up itself fails, so nobody can tell.
    """
    for lookup in lookups:
        remaining = max(deadline - time.monotonic(), _MIN_LOOKUP_TIME)
        try:
            data = await client.with_options(timeout=remaining)._execute(lookup)
        except NotFoundError:
            continue
        except WonderError as exc:
            raise OutcomeUnknownError(
                f"{what} may or may not have happened: looking it up failed ({exc})",
                payment_uuid=payment_uuid,
                request_id=exc.request_id,
            ) from exc
        if found(data):
            return {**data, RECOVERED: True}
    return None
