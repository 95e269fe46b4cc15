"""Pieces every part of the emulator shares: the error answers and codes, the base class.

:class:`EmulatorBase` declares the attributes the concern mixins (:mod:`._customers`,
:mod:`._orders`, :mod:`._payments`, :mod:`._settle`, :mod:`._webhooks`, :mod:`._endpoint`)
read; :class:`~._server.Emulator` sets them up.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any, Final

import aiohttp
from aiohttp import web

from .._signing import Signer
from ._faults import FaultPlan
from ._readings import Readings
from ._state import State

__all__ = [
    "DECLINED",
    "DUPLICATE_REFERENCE",
    "DUPLICATE_REFUND",
    "DUPLICATE_REFUND_WINDOW",
    "FAULT",
    "INVALID",
    "INVALID_CURRENCY",
    "NOT_ALLOWED",
    "NOT_FOUND",
    "NO_ENDPOINT",
    "EmulatorBase",
    "Handler",
    "Reject",
    "bad",
    "base_url_of",
    "error_body",
    "money",
    "not_allowed",
    "not_found",
]

#: An API handler: gets the request and its parsed JSON object, returns ``(data, status)``.
Handler = Callable[[web.Request, Any], Awaitable[tuple[dict[str, Any], int]]]


#: The emulator's own ``error_code`` values (not Wonder's: the gateway's are unknown but for
#: the two below; ``docs/decisions.md`` lists them). Merchants must not match on these.
INVALID: Final = "EMU_INVALID"
NOT_FOUND: Final = "EMU_NOT_FOUND"
DUPLICATE_REFERENCE: Final = "EMU_DUPLICATE_REFERENCE"
NOT_ALLOWED: Final = "EMU_NOT_ALLOWED"
DECLINED: Final = "EMU_DECLINED"
NO_ENDPOINT: Final = "EMU_NO_ENDPOINT"
FAULT: Final = "EMU_FAULT"
#: Codes Wonder's own code shows: a repeated same-amount refund within five minutes (WOO
#: commit aa1eb78) and a currency the merchant cannot take (OC catalog controller:851-853).
DUPLICATE_REFUND: Final = 100701
INVALID_CURRENCY: Final = "EO100102"
#: Seconds within which a second refund of the same amount on one sale is refused.
DUPLICATE_REFUND_WINDOW: Final = 300.0


class Reject(Exception):
    """An error answer: HTTP status (used when ``errors=http``, and always for ``auth``
    failures), Wonder ``code``, ``message``, ``error_code`` and, rarely, ``data`` (a declined
    charge still returns the order that records it)."""

    def __init__(
        self,
        status: int,
        code: str | int,
        message: str,
        data: dict[str, Any] | None = None,
        *,
        error_code: str = INVALID,
        auth: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data
        self.error_code = error_code
        self.auth = auth

    def envelope(self) -> dict[str, Any]:
        """The answer's body: ``{"code", "message", "error_code", "data"}``."""
        return error_body(self.code, self.message, self.error_code, self.data)


def error_body(
    code: str | int, message: str, error_code: str, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every error answer of the emulator has these four keys."""
    return {"code": code, "message": message, "error_code": error_code, "data": data}


def bad(message: str, *, error_code: str = INVALID) -> Reject:
    """A refused field (``message`` names it and the rule): code 400, HTTP 400 under
    ``errors=http``."""
    return Reject(400, 400, message, error_code=error_code)


def not_allowed(message: str) -> Reject:
    """A request the object's state forbids (not refundable, not voidable, not payable)."""
    return Reject(400, 400, message, error_code=NOT_ALLOWED)


def not_found(what: str, detail: str = "") -> Reject:
    """``what`` does not exist: code 404 and a message that starts "``what`` not found" (HTTP
    404 under ``errors=http``), for every kind of object."""
    message = f"{what} not found" + (f": {detail}" if detail else "")
    return Reject(404, 404, message, error_code=NOT_FOUND)


def money(amount: Decimal) -> str:
    """An amount as the gateway writes it: a string with 2 decimals."""
    return f"{amount:.2f}"


def base_url_of(request: web.Request) -> str:
    """The scheme and host the client used to reach this server."""
    return f"{request.scheme}://{request.host}"


class EmulatorBase:
    """The state and plumbing every concern mixin of :class:`~._server.Emulator` uses."""

    state: State
    faults: FaultPlan
    requests: Counter[str]
    app_id: str
    webhook_private_key_pem: str
    webhook_public_key_pem: str
    webhook_retry_delays: tuple[float, ...]
    webhook_log: list[dict[str, Any]]
    dedupe_charges: bool
    readings: Readings
    pending_seconds: float
    unknown_keys: dict[str, Counter[str]]
    #: Numbers of the orders holding a pending charge or void (see ``settle_due``).
    _pending_orders: set[str]
    _webhook_signer: Signer
    _webhook_session: aiohttp.ClientSession | None
    _background: set[asyncio.Task[None]]
    #: Timers that settle pending charges and voids (cancelled on stop).
    _timers: set[asyncio.Task[None]]
    _deliveries: Iterator[int]
