"""The one cattrs converter: response JSON to models, leniently.

Unknown keys go to each model's ``extra`` instead of failing, a bare token string where a
token object was expected becomes ``PaymentToken(token=...)``, an amount sent as a JSON number
becomes the gateway's two-place text (``21.5`` -> ``"21.50"``), and any shape the converter
cannot read becomes an :class:`APIConnectionError` naming the model, never a cattrs error.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

import attrs
import cattrs

from ._errors import APIConnectionError
from ._models import CreditCard, Customer, Order, PaymentData, PaymentToken, Transaction

__all__ = ["converter", "structure"]

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
                        kwargs[k] = str(v)
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


def _as_str(value: Any, _type: Any) -> str | None:
    # Lenient: numbers the gateway sends where strings are documented become strings.
    return value if value is None or type(value) is str else str(value)


_TRUE: Final = frozenset({"true", "1", "yes"})


def _as_bool(value: Any, _type: Any) -> bool | None:
    # Lenient, but never bool("false") == True: flags may come as 0/1 or "true"/"false".
    if value is None or type(value) is bool:
        return value
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return bool(value)


# One hook call per optional field instead of cattrs' generic Optional handling plus a
# str hook: response structuring is on the event loop's hot path. Registered before the models
# so their generated functions pick these up.
converter.register_structure_hook_func(lambda t: t in (str, str | None), _as_str)
converter.register_structure_hook_func(lambda t: t in (bool, bool | None), _as_bool)

# Inner models first: the outer ones look their fields' hooks up once, when they are built.
for _model in (CreditCard, PaymentData, Transaction):
    converter.register_structure_hook(_model, _lenient_factory(_model))

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


def structure(value: Any, cls: type[T]) -> T:
    """Structure ``value`` into ``cls``; a shape we cannot read raises APIConnectionError."""
    try:
        hook = _MODEL_HOOKS.get(cls)
        if hook is not None:  # the response models: skip the converter's dispatch
            result: T = hook(value, cls)
            return result
        return converter.structure(value, cls)
    except (TypeError, ValueError, KeyError, AttributeError, cattrs.BaseValidationError) as exc:
        raise APIConnectionError(
            f"unexpected response shape for {getattr(cls, '__name__', cls)}: {type(exc).__name__}"
        ) from None
