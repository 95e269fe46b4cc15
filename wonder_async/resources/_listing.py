"""What the list endpoints share (customers list, orders list): page size and the Query DSL
filters (wonder-api.md §4.5), as sent and signed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .._errors import ValidationError
from .._wire import path_segment

__all__ = ["FILTER_OPS", "MAX_PAGE_SIZE", "filter_query"]

MAX_PAGE_SIZE: Final = 1000
#: Operators of the Query DSL (wonder-api.md §4.5).
FILTER_OPS: Final = frozenset(
    {
        "_eq",
        "_neq",
        "_gt",
        "_gte",
        "_lt",
        "_lte",
        "_contains",
        "_not_contains",
        "_in",
        "_not_in",
        "_null",
    }
)


def filter_query(filters: Mapping[str, Mapping[str, Any]] | None) -> list[str]:
    """Query DSL parameters (wonder-api.md §4.5): ``{"name": {"_contains": "Chan"}}`` ->
    ``filter[name][_contains]=Chan``, percent-encoded as sent and signed. Booleans are sent as
    ``1``/``0`` and lists (for ``_in``/``_not_in``) comma-separated, as the DSL documents.

    :param filters: ``{field: {operator: value}}``, or ``None`` for no filter.
    :returns: the ``filter[...]`` query parameters, each ``name=value``.
    :raises ValidationError: for an operator the DSL does not have.
    """
    query = []
    for field, ops in (filters or {}).items():
        for op, value in ops.items():
            if op not in FILTER_OPS:
                choices = ", ".join(sorted(FILTER_OPS))
                raise ValidationError(
                    f"filters.{field}", "unknown_op", f"{op!r} is not one of {choices}"
                )
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, list | tuple | set | frozenset):
                text = ",".join(str(v) for v in value)
            else:
                text = str(value)
            query.append(f"filter[{path_segment(field)}][{path_segment(op)}]={path_segment(text)}")
    return query
