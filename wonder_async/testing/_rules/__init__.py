"""The emulator's input rules: what a signed request may contain, decided in one place.

Every endpoint parses its body with :func:`parse_body` and reads its fields through the
checkers here before anything is stored, so nothing stored can break a later read. A refusal
is the SDK's own :class:`~wonder_async.ValidationError` (``"card.number: must contain only
digits"``), which the server answers as a 400 envelope; the limits (lengths, enums, currency
codes, amount format) are the SDK's, imported rather than repeated, so the SDK refuses before
sending whatever the emulator would refuse.

Rules (wonder-api.md §3, issue 18):

* bodies: UTF-8 JSON objects only (no byte-order mark, no UTF-16/32), at most
  :data:`MAX_BODY_BYTES`, nested at most :data:`MAX_DEPTH` deep, no ``NaN``/``Infinity``
  (nor numbers that overflow to it), no duplicate keys, no lone surrogates in any string;
* types exact: a string where a string is documented (``12345`` is not ``"12345"``), objects
  where objects, lists where lists, booleans where booleans; unknown keys of the documented
  objects are refused (a typo must not pass silently);
* ASCII digits ``[0-9]`` only in card numbers, expiry, CVV, amounts, quantities and paging
  (``str.isdigit`` also accepts ``"²"`` and ``"٣"``);
* amounts are decimal strings with at most two places (``"21.00"``), currencies ISO 4217
  alphabetic codes from :data:`~wonder_async._models.CURRENCIES`;
* names, references and other single-line text: no NUL or control characters.

By scope: :mod:`.body` (the body as a whole), :mod:`.values` (one field) and :mod:`.objects`
(the documented objects); every checker is importable from here.
"""

from __future__ import annotations

from .body import MAX_BODY_BYTES as MAX_BODY_BYTES
from .body import MAX_DEPTH as MAX_DEPTH
from .body import parse_body as parse_body
from .objects import CUSTOMER_KEYS as CUSTOMER_KEYS
from .objects import card as card
from .objects import customer_fields as customer_fields
from .objects import order as order
from .objects import order_key as order_key
from .objects import payment as payment
from .objects import transaction_uuid as transaction_uuid
from .values import amount as amount
from .values import boolean as boolean
from .values import collect_unknown_keys as collect_unknown_keys
from .values import currency as currency
from .values import enum as enum
from .values import integer as integer
from .values import obj as obj
from .values import only_keys as only_keys
from .values import parse_datetime as parse_datetime
from .values import path_param as path_param
from .values import text as text
from .values import unknown_keys as unknown_keys
from .values import url as url

__all__ = [
    "CUSTOMER_KEYS",
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "amount",
    "boolean",
    "card",
    "collect_unknown_keys",
    "currency",
    "customer_fields",
    "enum",
    "integer",
    "obj",
    "only_keys",
    "order",
    "order_key",
    "parse_body",
    "parse_datetime",
    "path_param",
    "payment",
    "text",
    "transaction_uuid",
    "unknown_keys",
    "url",
]
