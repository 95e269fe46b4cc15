"""A griffe extension for the docs build: what the reference shows, made readable.

The docstrings use ``:meth:`close``` and ``:class:`Card``` (read by IDEs and ``help()``);
mkdocstrings renders Markdown, where they would show up raw, so they become inline code. A
parameter defaulting to a private module constant (``timeout=_DEFAULT_TIMEOUT``) shows the
constant's value instead. Loaded by mkdocs.yml.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import ExprName, Extension, Function, Object

_ROLE = re.compile(r":(?:meth|class|func|attr|mod|data|exc|obj):`~?\.?([^`]+)`")


class ReadableReference(Extension):
    """Sphinx roles become inline code; private constants as defaults show their values."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        """Rewrite the roles in ``obj``'s docstring and its parameters' private defaults.

        :param obj: the object griffe just loaded.
        :param kwargs: the rest of griffe's hook arguments, unused.
        """
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(r"``\1``", obj.docstring.value)
        if isinstance(obj, Function):
            for parameter in obj.parameters:
                default = parameter.default
                if isinstance(default, ExprName) and default.name.startswith("_"):
                    constant = obj.module.members.get(default.name)
                    if constant is not None and getattr(constant, "value", None) is not None:
                        parameter.default = str(constant.value)
