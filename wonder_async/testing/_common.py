"""Pieces every part of the emulator shares: the error answer, field checks, the base class.

:class:`EmulatorBase` declares the attributes the concern mixins (:mod:`._customers`,
:mod:`._orders`, :mod:`._webhooks`) read; :class:`~._server.Emulator` sets them up.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
from aiohttp import web

from .._signing import Signer
from ._faults import FaultPlan
from ._state import State

__all__ = ["EmulatorBase", "Handler", "Reject", "bad", "base_url_of", "text_field"]

#: An API handler: gets the request and its parsed JSON object, returns ``(data, status)``.
Handler = Callable[[web.Request, Any], Awaitable[tuple[dict[str, Any], int]]]


class Reject(Exception):
    """An error answer: HTTP status, Wonder code, message."""

    def __init__(self, status: int, code: str | int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad(message: str) -> Reject:
    """A 400 answer with ``message`` (which names the field and the rule)."""
    return Reject(400, 400, message)


def text_field(
    obj: dict[str, Any], key: str, prefix: str, *, required: bool, max_len: int = 255
) -> Any:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise bad(f"{prefix}{key} is required")
        return None
    if not isinstance(value, str):
        raise bad(f"{prefix}{key} must be a string")
    if len(value) > max_len:
        raise bad(f"{prefix}{key} must be at most {max_len} characters")
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
    _webhook_signer: Signer
    _webhook_session: aiohttp.ClientSession | None
    _background: set[asyncio.Task[None]]
    _deliveries: Iterator[int]
