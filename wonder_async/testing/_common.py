"""Pieces every part of the emulator shares: the error answer, field checks, the base class.

:class:`EmulatorBase` declares the attributes the concern mixins (:mod:`._customers`,
:mod:`._orders`, :mod:`._webhooks`) read; :class:`~._server.Emulator` sets them up.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterator
from decimal import Decimal
from typing import Any, Final

import aiohttp
from aiohttp import web

from .._signing import Signer
from ._faults import FaultPlan
from ._readings import Readings
from ._state import State

__all__ = [
    "EmulatorBase",
    "Handler",
    "Reject",
    "amount_field",
    "bad",
    "base_url_of",
    "enum_field",
    "money",
    "text_field",
]

#: An API handler: gets the request and its parsed JSON object, returns ``(data, status)``.
Handler = Callable[[web.Request, Any], Awaitable[tuple[dict[str, Any], int]]]


class Reject(Exception):
    """An error answer: HTTP status, Wonder code, message and, rarely, ``data`` (a declined
    charge still returns the order that records it)."""

    def __init__(
        self, status: int, code: str | int, message: str, data: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data


def bad(message: str) -> Reject:
    """A 400 answer with ``message`` (which names the field and the rule)."""
    return Reject(400, 400, message)


def text_field(
    obj: dict[str, Any], key: str, prefix: str, *, required: bool, max_len: int = 255
) -> Any:
    """Read an optional or required string of at most ``max_len`` characters, or reject it."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise bad(f"{prefix}{key}: is required")
        return None
    if not isinstance(value, str):
        raise bad(f"{prefix}{key}: must be a string")
    if len(value) > max_len:
        raise bad(f"{prefix}{key}: must be at most {max_len} characters")
    return value


_AMOUNT: Final = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")


def amount_field(
    obj: dict[str, Any], key: str, prefix: str, *, required: bool, positive: bool = False
) -> Decimal | None:
    """Read a string amount such as ``"21.00"`` (at most 2 decimals), or reject it by name."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise bad(f"{prefix}{key}: is required")
        return None
    if not isinstance(value, str):
        raise bad(f'{prefix}{key}: must be a string amount like "21.00"')
    if not _AMOUNT.fullmatch(value):
        raise bad(f"{prefix}{key}: must be an amount like 21.00 (at most 2 decimal places)")
    amount = Decimal(value)
    if positive and amount <= 0:
        raise bad(f"{prefix}{key}: must be greater than 0")
    return amount


def money(amount: Decimal) -> str:
    """An amount as the gateway writes it: a string with 2 decimals."""
    return f"{amount:.2f}"


def enum_field(
    obj: dict[str, Any], key: str, prefix: str, allowed: Collection[str], *, required: bool = True
) -> str | None:
    """Read a string that must be one of ``allowed`` (a list or object is rejected by name)."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise bad(f"{prefix}{key}: is required")
        return None
    if not isinstance(value, str) or value not in allowed:
        raise bad(f"{prefix}{key}: must be one of: {', '.join(sorted(allowed))}")
    return value


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
    _webhook_signer: Signer
    _webhook_session: aiohttp.ClientSession | None
    _background: set[asyncio.Task[None]]
    _deliveries: Iterator[int]
