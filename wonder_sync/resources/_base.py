"""Base of the blocking resources; ``self._client`` runs requests through the portal."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._client import WonderClient

__all__ = ["SyncResource"]


class SyncResource:
    """Base of the blocking resources; ``self._client`` runs requests."""

    __slots__ = ("_client",)

    def __init__(self, client: WonderClient) -> None:
        self._client = client
