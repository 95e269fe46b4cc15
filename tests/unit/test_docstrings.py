"""Every public name of both packages is documented where the API reference shows it.

Walks ``__all__`` of ``wonder_async``, ``wonder_sync``, their ``resources`` modules and
``wonder_async.testing``:
each class, method, property and function needs a docstring; a callable's docstring names
each parameter (``:param name:``) and, unless it returns ``None``, what it returns
(``:returns:``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

import wonder_async
import wonder_async.resources
import wonder_async.testing
import wonder_sync
import wonder_sync.resources

OURS = ("wonder_async", "wonder_sync")


def _modules() -> Iterator[ModuleType]:
    yield wonder_async
    yield wonder_sync
    yield wonder_async.testing
    for package in (wonder_async.resources, wonder_sync.resources):
        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_"):
                yield importlib.import_module(f"{package.__name__}.{info.name}")


def _public() -> dict[str, Any]:
    """Every public object once, keyed by where the reference shows it."""
    found: dict[str, Any] = {}
    seen: set[int] = set()
    for module in _modules():
        for name in module.__all__:
            obj = getattr(module, name)
            if id(obj) not in seen:
                seen.add(id(obj))
                found[f"{module.__name__}.{name}"] = obj
    return found


def _callable_problems(where: str, fn: Callable[..., Any]) -> list[str]:
    doc = inspect.getdoc(fn) or ""
    if not doc.strip():
        return [f"{where}: no docstring"]
    problems = []
    signature = inspect.signature(fn)
    for parameter in signature.parameters.values():
        if parameter.name not in {"self", "cls"} and f":param {parameter.name}:" not in doc:
            problems.append(f"{where}: parameter {parameter.name!r} is not described")
    returns = signature.return_annotation
    if returns not in {None, "None", inspect.Signature.empty} and ":returns:" not in doc:
        problems.append(f"{where}: does not say what it returns (:returns:)")
    return problems


def _problems(where: str, obj: Any) -> list[str]:
    if not inspect.isclass(obj):
        # A constant's docs are a ``#:`` comment the reference reads from the source.
        return _callable_problems(where, obj) if callable(obj) else []
    problems = [] if (obj.__doc__ or "").strip() else [f"{where}: class has no docstring"]
    for cls in obj.__mro__:
        if cls.__module__.split(".")[0] not in OURS:
            continue  # Exception, object, enum.Enum: documented upstream
        for name, member in vars(cls).items():
            if name.startswith("_"):
                continue
            if isinstance(member, property | functools.cached_property):
                if not (member.__doc__ or "").strip():
                    problems.append(f"{where}.{name}: property has no docstring")
            elif isinstance(member, staticmethod | classmethod):
                problems += _callable_problems(f"{where}.{name}", member.__func__)
            elif inspect.isfunction(member):
                problems += _callable_problems(f"{where}.{name}", member)
    return problems


PUBLIC = _public()


def test_the_walk_covers_the_api() -> None:
    """The walk reaches the client, every resource, models, errors and webhooks."""
    names = {where.rsplit(".", 1)[1] for where in PUBLIC}
    assert {"WonderClient", "Customers", "PaymentTokens", "Orders", "Card"} <= names
    assert {"WonderError", "ValidationError", "WebhookVerifier", "verify_webhook"} <= names
    assert "wonder_sync.resources.customers.Customers" in PUBLIC
    assert {"Emulator", "FaultPlan", "parse_faults"} <= names


@pytest.mark.parametrize("where", sorted(PUBLIC))
def test_public_name_is_documented(where: str) -> None:
    """What it does, each parameter and what it returns are written down."""
    problems = _problems(where, PUBLIC[where])
    assert not problems, "\n".join(problems)


def test_the_check_catches_a_missing_parameter() -> None:
    """A docstring that skips a parameter or the return value fails the check."""

    def half(amount: int, rounding: str) -> int:
        """Halve ``amount``.

        :param amount: what to halve.
        """
        return amount // 2

    assert _callable_problems("half", half) == [
        "half: parameter 'rounding' is not described",
        "half: does not say what it returns (:returns:)",
    ]
