"""A griffe extension for the docs build: what the reference shows, made readable.

The docstrings use ``:meth:`close``` and ``:class:`Card``` (read by IDEs and ``help()``);
mkdocstrings renders Markdown, where they would show up raw, so they become inline code. A
parameter defaulting to a module constant (``timeout=DEFAULT_TIMEOUT``, also one imported
from another module) shows the constant's value instead. Loaded by mkdocs.yml.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from griffe import (
    Alias,
    AliasResolutionError,
    Attribute,
    Class,
    ExprName,
    Extension,
    Function,
    Module,
    Object,
)

_ROLE = re.compile(r":(?:meth|class|func|attr|mod|data|exc|obj):`~?\.?([^`]+)`")


class ReadableReference(Extension):
    """Sphinx roles become inline code; module constants as defaults show their values."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        """Rewrite the roles in ``obj``'s docstring and its parameters' constant defaults.

        :param obj: the object griffe just loaded.
        :param kwargs: the rest of griffe's hook arguments, unused.
        """
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(r"``\1``", obj.docstring.value)

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        """Once a whole package is loaded (so imported constants resolve), show the values of
        the constants its functions' parameters default to.

        :param pkg: the package griffe just loaded.
        :param kwargs: the rest of griffe's hook arguments, unused.
        """
        for function in _functions(pkg):
            for parameter in function.parameters:
                default = parameter.default
                if isinstance(default, ExprName):
                    value = _constant_value(function, default.name)
                    if value is not None:
                        parameter.default = value


def _functions(obj: Object) -> Iterator[Function]:
    """Every function and method defined in ``obj`` and below it (aliases are not followed)."""
    for member in obj.members.values():
        if isinstance(member, Alias):
            continue
        if isinstance(member, Function):
            yield member
        elif isinstance(member, Module | Class):
            yield from _functions(member)


def _constant_value(obj: Object, name: str) -> str | None:
    """The value of the module-level constant ``name`` seen from ``obj``'s module, following
    imports (``DEFAULT_TIMEOUT`` from ``._config``); ``None`` for anything but a constant."""
    member = obj.module.members.get(name)
    try:
        target = member.final_target if isinstance(member, Alias) else member
    except AliasResolutionError:
        return None
    if not isinstance(target, Attribute) or target.value is None:
        return None
    if not (name.isupper() or name.lstrip("_").isupper()):
        return None  # a class or a function used as a default stays a name
    return str(target.value)
