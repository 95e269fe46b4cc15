"""A griffe extension for the docs build: Sphinx roles in docstrings become inline code.

The docstrings use ``:meth:`close``` and ``:class:`Card``` (read by IDEs and ``help()``);
mkdocstrings renders Markdown, where they would show up raw. Loaded by mkdocs.yml.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

_ROLE = re.compile(r":(?:meth|class|func|attr|mod|data|exc|obj):`~?\.?([^`]+)`")


class SphinxRoles(Extension):
    """Rewrite ``:role:`target``` to ``target`` in code font."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        """Rewrite the roles in ``obj``'s docstring, if it has one.

        :param obj: the object griffe just loaded.
        :param kwargs: the rest of griffe's hook arguments, unused.
        """
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(r"``\1``", obj.docstring.value)
