"""The shape report: for each operation of the flow, the keys and JSON types the gateway
sent next to those the emulator sends for the same request.

A shape is ``{path: {types}}`` with paths like ``data.order.transactions[].amount``: list
items merge into ``[]``, and a key's types are the union over every answer of that step. No
value is kept, so the report holds no data of the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["SHAPES_FORMAT", "Shape", "compare", "shape_of"]

SHAPES_FORMAT: Final = "wonder-shapes/1"

Shape = dict[str, set[str]]


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _walk(value: Any, path: str, into: Shape) -> None:
    into.setdefault(path or "$", set()).add(_type(value))
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{path}.{key}" if path else str(key), into)
    elif isinstance(value, list):
        for item in value:
            _walk(item, f"{path}[]", into)


def shape_of(values: Iterable[Any]) -> Shape:
    """The merged shape of JSON values (one step's answers)."""
    shape: Shape = {}
    for value in values:
        _walk(value, "", shape)
    return shape


def _covered(path: str, shape: Shape) -> bool:
    """Whether the nearest parent of ``path`` that ``shape`` has is ``null`` or an empty list
    there (then a child missing on that side says nothing)."""
    parent = path
    while True:
        if parent.endswith("[]"):
            parent = parent[:-2]
        elif "." in parent:
            parent = parent.rsplit(".", 1)[0]
        else:
            return False
        types = shape.get(parent)
        if types is None:
            continue
        return types == {"null"} or ("array" in types and parent + "[]" not in shape)


def compare(gateway: Shape, emulator: Shape) -> dict[str, Any]:
    """What the emulator lacks, invents, and types differently for one operation.

    ``null`` is a value, not a type, here: a key that is ``null`` on one side and a string on
    the other is not a type difference (an empty ``voided_at`` is ``null`` on both); keys
    under a parent that is ``null`` or an empty list on the other side are not counted.
    """
    lacks = sorted(p for p in gateway if p not in emulator and not _covered(p, emulator))
    invents = sorted(p for p in emulator if p not in gateway and not _covered(p, gateway))
    differ = []
    for path in sorted(set(gateway) & set(emulator)):
        g, e = gateway[path] - {"null"}, emulator[path] - {"null"}
        if g and e and g != e:
            differ.append({"path": path, "gateway": sorted(g), "emulator": sorted(e)})
    return {"emulator_lacks": lacks, "emulator_invents": invents, "types_differ": differ}


def as_json(shape: Shape) -> dict[str, list[str]]:
    return {path: sorted(types) for path, types in sorted(shape.items())}


def report(
    operations: Mapping[str, tuple[str, Shape, Shape | None]],
) -> dict[str, dict[str, Any]]:
    """``{step: {"request", "gateway", "emulator", "emulator_lacks", ...}}``; an operation the
    emulator run did not reach has ``"emulator": null`` and no comparison."""
    out: dict[str, dict[str, Any]] = {}
    for step, (request, gateway, emulator) in operations.items():
        entry: dict[str, Any] = {"request": request, "gateway": as_json(gateway)}
        if emulator is None:
            entry["emulator"] = None
        else:
            entry["emulator"] = as_json(emulator)
            entry.update(compare(gateway, emulator))
        out[step] = entry
    return out
