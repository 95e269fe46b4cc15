"""The one cattrs converter: response JSON to models, leniently.

Unknown keys go to each model's ``extra`` instead of failing, a bare token string where a
token object was expected becomes ``PaymentToken(token=...)``, an amount sent as a JSON number
becomes the gateway's two-place text (``21.5`` -> ``"21.50"``), and other numbers where text
is documented become text. Anything else of the wrong type anywhere under ``data`` (an object
or a list where text is expected, text or a number where an object or a list is) is a
:class:`ResponseValidationError` naming the field's path (``data.orders[3].order``), never a
raw ``TypeError``: the one place answers are checked. The resources pick values out of
``data`` with :func:`structure_at`, :func:`items_at` and :func:`object_at`, which report the
same way. An unmasked ``credit_card.number`` is masked here, before anything can show it.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

import attrs
import cattrs

from ._errors import ResponseValidationError
from ._models import CreditCard, Customer, Order, PaymentData, PaymentToken, Transaction
from ._redact import scrub

__all__ = ["converter", "items_at", "object_at", "structure", "structure_at"]

T = TypeVar("T")

# detailed_validation=False: the generated functions are simpler and faster on the response
# hot path, and we report shape errors ourselves.
converter = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)


#: Model fields that hold amounts: a JSON number there (Wonder's iOS SDK decodes them as
#: Double) is read as the two-place text the models document.
AMOUNT_FIELDS: Final = frozenset(
    {
        "amount",
        "charge_fee",
        "tips",
        "initial_total",
        "paid_total",
        "unpaid_total",
        "refunded_amount",
    }
)


def amount_text(value: int | float) -> str:
    """A JSON number as amount text: ``21.5`` -> ``"21.50"``, ``-10`` -> ``"-10.00"``; more
    than two places are kept as sent (``0.125`` -> ``"0.125"``), never rounded."""
    try:
        amount = Decimal(repr(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    exponent = amount.as_tuple().exponent
    return f"{amount:.2f}" if isinstance(exponent, int) and exponent >= -2 else str(amount)


def _lenient_factory(cls: type[Any]) -> Callable[[Any, type[Any]], Any]:
    """One pass over the response object: known fields through their hook (text fields
    inline), ``None`` values skipped (the model's default stands), unknown keys to ``extra``."""
    fields = [a for a in attrs.fields(attrs.resolve_types(cls)) if a.name != "extra"]
    types = {a.name: _without_none(a.type) for a in fields}
    text = frozenset(name for name, t in types.items() if t is str)
    amounts = text & AMOUNT_FIELDS
    hooks = {
        name: _as_bool if t is bool else converter.get_structure_hook(t)
        for name, t in types.items()
        if t is not str
    }

    def structure_model(value: Any, _cls: type[Any]) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object for {cls.__name__}")
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] | None = None
        for k, v in value.items():
            if k in text:
                if v is not None:
                    # Lenient: numbers the gateway sends where strings are documented.
                    if type(v) is str:
                        kwargs[k] = v
                    elif k in amounts and type(v) in (int, float):
                        kwargs[k] = amount_text(v)
                    else:
                        kwargs[k] = _text(v)
            elif k in hooks:
                if v is not None:
                    kwargs[k] = hooks[k](v, types[k])
            elif extra is None:
                extra = {k: v}
            else:
                extra[k] = v
        if extra is not None:
            kwargs["extra"] = extra
        return cls(**kwargs)

    return structure_model


def _without_none(t: Any) -> Any:
    """``X | None`` -> ``X``: ``None`` values never reach a field's hook."""
    args = typing.get_args(t)
    if type(None) in args:
        rest = tuple(a for a in args if a is not type(None))
        return rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007
    return t


_SCALARS: Final = (str, int, float, bool)


def _text(value: Any) -> str:
    if isinstance(value, _SCALARS):
        return str(value)
    raise TypeError("text expected")


def _as_str(value: Any, _type: Any) -> str | None:
    # Lenient: numbers the gateway sends where strings are documented become strings.
    return value if value is None or type(value) is str else _text(value)


_TRUE: Final = frozenset({"true", "1", "yes"})


def _as_bool(value: Any, _type: Any) -> bool | None:
    # Lenient, but never bool("false") == True: flags may come as 0/1 or "true"/"false".
    if value is None or type(value) is bool:
        return value
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    if isinstance(value, int | float):
        return bool(value)
    raise TypeError("a flag expected")


# One hook call per optional field instead of cattrs' generic Optional handling plus a
# str hook: response structuring is on the event loop's hot path. Registered before the models
# so their generated functions pick these up.
converter.register_structure_hook_func(lambda t: t in (str, str | None), _as_str)
converter.register_structure_hook_func(lambda t: t in (bool, bool | None), _as_bool)

# Inner models first: the outer ones look their fields' hooks up once, when they are built.
for _model in (PaymentData, Transaction):
    converter.register_structure_hook(_model, _lenient_factory(_model))

_card_hook = _lenient_factory(CreditCard)


def _structure_card(value: Any, cls: type[Any]) -> CreditCard:
    card: CreditCard = _card_hook(value, cls)
    if card.number is not None and (masked := scrub(card.number)) != card.number:
        card = attrs.evolve(card, number=masked)  # the gateway sent the full number
    return card


converter.register_structure_hook(CreditCard, _structure_card)

_transaction_hook = converter.get_structure_hook(Transaction)


def _structure_transactions(value: Any, _type: Any) -> tuple[Transaction, ...]:
    if not isinstance(value, list):  # a string or an object would be iterated
        raise TypeError("a list expected")
    return tuple(_transaction_hook(v, Transaction) for v in value)


converter.register_structure_hook_func(
    lambda t: t == tuple[Transaction, ...], _structure_transactions
)

_token_hook = _lenient_factory(PaymentToken)


def _structure_token(value: Any, cls: type[Any]) -> PaymentToken:
    if isinstance(value, str):
        return PaymentToken(token=value)
    result: PaymentToken = _token_hook(value, cls)
    return result


converter.register_structure_hook(PaymentToken, _structure_token)
for _outer in (Customer, Order):
    converter.register_structure_hook(_outer, _lenient_factory(_outer))

_MODEL_HOOKS: Final[dict[Any, Callable[[Any, Any], Any]]] = {
    m: converter.get_structure_hook(m)
    for m in (CreditCard, PaymentData, Transaction, PaymentToken, Customer, Order)
}


_CAUGHT: Final = (
    TypeError,
    ValueError,
    KeyError,
    AttributeError,
    RecursionError,
    cattrs.BaseValidationError,
)


def structure(value: Any, cls: type[T], path: str = "data") -> T:
    """Structure ``value`` (found at ``path`` of the answer) into ``cls``.

    :raises ResponseValidationError: naming the path of the first value of a wrong type.
    """
    try:
        hook = _MODEL_HOOKS.get(cls)
        if hook is not None:  # the response models: skip the converter's dispatch
            result: T = hook(value, cls)
            return result
        return converter.structure(value, cls)
    except _CAUGHT:
        where, problem = _explain(value, cls, path) or (path, f"is not a readable {_name(cls)}")
        raise _invalid(where, problem) from None


def structure_at(data: Any, key: str, cls: type[T], path: str = "data") -> T:
    """``data[key]`` structured into ``cls``; ``data`` must be an object and ``key`` there.

    :raises ResponseValidationError: naming ``path.key`` (or ``path``).
    """
    return structure(object_at(data, path).get(key), cls, f"{path}.{key}")


def items_at(data: Any, key: str, path: str = "data") -> list[Any]:
    """The list ``data[key]`` (``[]`` when missing or ``null``), unstructured.

    :raises ResponseValidationError: when ``data`` is not an object or ``data[key]`` not a list.
    """
    found = object_at(data, path).get(key)
    if found is None:
        return []
    if not isinstance(found, list):
        raise _invalid(f"{path}.{key}", f"must be a list, not {_kind(found)}")
    return found


def object_at(value: Any, path: str = "data") -> dict[str, Any]:
    """``value`` if it is a JSON object.

    :raises ResponseValidationError: naming ``path`` otherwise.
    """
    if not isinstance(value, dict):
        raise _invalid(path, f"must be an object, not {_kind(value)}")
    return value


def _invalid(path: str, problem: str) -> ResponseValidationError:
    return ResponseValidationError(
        f"unexpected answer from the gateway: {path} {problem}", path=path
    )


def _name(cls: Any) -> str:
    return str(getattr(cls, "__name__", cls))


def _kind(value: Any) -> str:
    """What a JSON value is, never the value itself (it may be card data)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _explain(value: Any, t: Any, path: str, depth: int = 0) -> tuple[str, str] | None:
    """The path and problem of the first value that does not fit type ``t`` (slow: only
    called once structuring has failed), or ``None`` when nothing is found."""
    if depth > 32:
        return path, "is nested too deep"
    t = _without_none(t)
    if t in _MODEL_HOOKS:
        if value is None and depth == 0:
            return path, f"is missing (an object, {_name(t)}, was expected)"
        if value is None or (t is PaymentToken and isinstance(value, str)):
            return None
        if not isinstance(value, dict):
            return path, f"must be an object ({_name(t)}), not {_kind(value)}"
        for a in attrs.fields(t):
            if a.name != "extra" and value.get(a.name) is not None:
                found = _explain(value[a.name], a.type, f"{path}.{a.name}", depth + 1)
                if found is not None:
                    return found
        return None
    if value is None:
        return None
    if t is str:
        return None if isinstance(value, _SCALARS) else (path, f"must be text, not {_kind(value)}")
    if t is bool:
        if isinstance(value, _SCALARS):
            return None
        return path, f"must be a boolean, not {_kind(value)}"
    if typing.get_origin(t) is tuple:
        if not isinstance(value, list):
            return path, f"must be a list, not {_kind(value)}"
        inner = typing.get_args(t)[0]
        for i, item in enumerate(value):
            found = _explain(item, inner, f"{path}[{i}]", depth + 1)
            if found is not None:
                return found
    return None
