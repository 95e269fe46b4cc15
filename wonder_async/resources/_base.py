"""What every resource shares: a reference to its client and request builders."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._client import WonderClient

__all__ = ["AsyncResource"]


class AsyncResource:
    """Base of the async resources; ``self._client`` runs requests."""

    __slots__ = ("_client",)

    def __init__(self, client: WonderClient) -> None:
        self._client = client
