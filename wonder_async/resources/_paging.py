"""Offset paging, shared by every auto-paginating call (``customers.list``, ``orders.list``,
``payment_tokens.export``): where the next page starts, when to stop, and a gateway that
makes no progress.

A page's ``total`` is trusted when the gateway sends one (paging stops at it, and a short page
below it is not the end); without it a short page is the last. A page that repeats an earlier
one (the same first item), an ``offset`` that goes backwards, or an empty page below the
``total`` stops the iteration with :class:`ResponseValidationError` instead of looping on; so
does a page with more items than asked for.
"""

from __future__ import annotations

from typing import Any

from .._converter import items_at
from .._errors import ResponseValidationError

__all__ = ["Pager"]


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class Pager:
    """The state of one paged iteration: ``offset`` of the next page and ``done``."""

    __slots__ = ("_firsts", "done", "key", "offset", "page_size")

    def __init__(self, key: str, page_size: int, offset: int = 0) -> None:
        self.key = key
        self.page_size = page_size
        self.offset = offset
        self.done = False
        self._firsts: set[int] = set()

    def take(self, data: Any) -> list[Any]:
        """The raw items of the page just read at ``offset``; moves ``offset`` past them and
        sets ``done`` after the last page.

        :raises ResponseValidationError: when the page is not a list, or repeats, goes back
            or makes no progress.
        """
        page = items_at(data, self.key)
        total = _count(data.get("total"))
        echoed = _count(data.get("offset"))
        if echoed is not None and echoed < self.offset:
            raise self._stuck(f"the page asked for at offset {self.offset} came back as offset "
                              f"{echoed}")  # fmt: skip
        if len(page) > self.page_size:
            raise ResponseValidationError(
                f"paging {self.key} stopped: the gateway sent {len(page)} items for a page of "
                f"{self.page_size}",
                path=f"data.{self.key}",
            )
        if not page:
            if total is not None and total > self.offset:
                raise self._stuck(
                    f"an empty page at offset {self.offset} although total is {total}"
                )
            self.done = True
            return page
        first = hash(repr(page[0]))
        if first in self._firsts:
            raise self._stuck(f"the page at offset {self.offset} repeats an earlier page")
        self._firsts.add(first)
        self.offset += len(page)
        if total is not None:
            self.done = self.offset >= total
        else:
            self.done = len(page) < self.page_size
        return page

    def _stuck(self, what: str) -> ResponseValidationError:
        return ResponseValidationError(
            f"paging {self.key} stopped: {what}, so the gateway makes no progress",
            path=f"data.{self.key}",
        )
