"""The blocking twin cannot drift from the async API: names, signatures, docstrings, classes."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import wonder_async
import wonder_sync

ROOT = Path(__file__).resolve().parents[2]


def _public(obj: Any) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(obj)
        if not name.startswith("_") or name == "__init__"
    }


def _normalise(sig: inspect.Signature) -> str:
    text = str(sig)
    for a, b in (("AsyncIterator", "Iterator"), ("AsyncIterable", "Iterable")):
        text = text.replace(a, b)
    # Bulk inputs accept async iterables only in the async twin.
    text = re.sub(r"Iterable\[Mapping\[str, Any\]\] \| Iterable\[Mapping\[str, Any\]\]|Rows",
                  "Iterable[Mapping[str, Any]]", text)  # fmt: skip
    text = re.sub(r"\bCharges\b", "Iterable[Mapping[str, Any]]", text)
    return text.replace("TokenRefs", "Iterable[TokenRef]")


def test_same_public_names_and_same_classes() -> None:
    """wonder_sync exports every name of wonder_async; models and errors are the same objects."""
    assert sorted(wonder_sync.__all__) == sorted(wonder_async.__all__)
    for name in wonder_async.__all__:
        if name != "WonderClient":
            assert getattr(wonder_sync, name) is getattr(wonder_async, name), name


@pytest.mark.parametrize("resource", [None, "customers", "payment_tokens", "orders"])
def test_methods_signatures_and_docstrings_match(resource: str | None) -> None:
    """Every public method has the same signature (async types mapped) and docstring."""
    a_cls: Any = wonder_async.WonderClient
    s_cls: Any = wonder_sync.WonderClient
    if resource is not None:
        a_cls = inspect.signature(getattr(a_cls, resource).func).return_annotation
        s_cls = inspect.signature(getattr(s_cls, resource).func).return_annotation
        a_cls = getattr(sys.modules[f"wonder_async.resources.{resource}"], a_cls)
        s_cls = getattr(sys.modules[f"wonder_sync.resources.{resource}"], s_cls)
    a_members, s_members = _public(a_cls), _public(s_cls)
    assert a_members.keys() - {"__aenter__", "__aexit__"} == s_members.keys() - {
        "__enter__",
        "__exit__",
    }
    for name, a_member in a_members.items():
        if name in {"__aenter__", "__aexit__"}:
            continue
        s_member = s_members[name]
        if callable(a_member) and name != "__init__":
            assert _normalise(inspect.signature(a_member)) == _normalise(
                inspect.signature(s_member)
            ), name
        a_doc = inspect.getdoc(a_member) or ""
        assert a_doc == (inspect.getdoc(s_member) or ""), name
    assert str(inspect.signature(a_cls.__init__)).replace("WonderClient", "") == str(
        inspect.signature(s_cls.__init__)
    ).replace("WonderClient", "")


def test_generated_resources_are_up_to_date() -> None:
    """scripts/gen_sync.py --check passes: the generated files match the async source."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_sync.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_webhooks_are_the_same_objects() -> None:
    """wonder_sync.webhooks re-exports wonder_async.webhooks' objects, nothing of its own."""
    import wonder_async.webhooks as a
    import wonder_sync.webhooks as s

    assert sorted(a.__all__) == sorted(s.__all__)
    for name in a.__all__:
        assert getattr(a, name) is getattr(s, name)
