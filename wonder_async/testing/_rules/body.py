"""Request bodies: UTF-8 JSON objects, bounded in size and depth, finite numbers, no
duplicate keys and no lone surrogates anywhere."""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

from ..._errors import ValidationError

__all__ = ["MAX_BODY_BYTES", "MAX_DEPTH", "SURROGATE", "parse_body"]

#: Largest body accepted (the server's own ``client_max_size`` is the same).
MAX_BODY_BYTES: Final = 1 << 20
#: Deepest nesting of objects and lists accepted in a body.
MAX_DEPTH: Final = 32

_BOMS: Final = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
SURROGATE: Final = re.compile("[\ud800-\udfff]")


class _Refused(Exception):
    """Raised from inside ``json.loads`` hooks; turned into a ValidationError."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def _no_constant(name: str) -> Any:
    raise _Refused("json", f"{name} is not JSON (numbers must be finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("json", f"number {text[:20]} is out of range")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _Refused("duplicate", f"key {_show(dup)} appears twice")
    return result


def _show(key: str) -> str:
    return repr(SURROGATE.sub("\ufffd", key[:40]))


def _walk(value: Any, path: str, depth: int) -> None:
    """Refuse nesting deeper than MAX_DEPTH and lone surrogates in keys and strings."""
    if isinstance(value, str):
        if SURROGATE.search(value):
            raise ValidationError(path or "body", "surrogate", "contains a lone surrogate")
        return
    if not isinstance(value, dict | list):
        return
    if depth > MAX_DEPTH:
        top = re.split(r"[.\[]", path, maxsplit=1)[0]  # the whole path would be 32 levels long
        raise ValidationError(top or "body", "depth", f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if SURROGATE.search(key):
                raise ValidationError(path or "body", "surrogate", "has a lone surrogate in a key")
            _walk(item, f"{path}.{key}" if path else key, depth + 1)
    else:
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", depth + 1)


def parse_body(body: bytes) -> dict[str, Any]:
    """Parse a request body: UTF-8 JSON object, bounded, finite numbers, no duplicate keys.

    An empty body is an empty object (GET and DELETE without a body).

    :raises ValidationError: with field ``body`` (or the path of the offending value).
    """
    if not body:
        return {}
    if len(body) > MAX_BODY_BYTES:
        raise ValidationError("body", "size", f"must be at most {MAX_BODY_BYTES} bytes")
    if body.startswith(_BOMS) or b"\x00" in body:
        # UTF-16/32 JSON of ASCII text always has NUL bytes; raw NUL is never valid UTF-8 JSON.
        raise ValidationError("body", "encoding", "must be UTF-8 JSON without a byte-order mark")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("body", "encoding", "must be valid UTF-8") from None
    try:
        payload = json.loads(
            text,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            object_pairs_hook=_no_duplicates,
        )
    except _Refused as exc:
        raise ValidationError("body", exc.rule, exc.detail) from None
    except RecursionError:
        raise ValidationError("body", "depth", f"nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # JSONDecodeError, and int() of a number with too many digits
        raise ValidationError("body", "json", "is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ValidationError("body", "type", "must be a JSON object")
    _walk(payload, "", 1)
    return payload
