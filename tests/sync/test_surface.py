"""The blocking twin cannot drift from the async API: names, signatures, docstrings, classes."""

from __future__ import annotations

import importlib
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
        # The resource modules load with the first resource (lazily): import them here.
        a_cls = getattr(importlib.import_module(f"wonder_async.resources.{resource}"), a_cls)
        s_cls = getattr(importlib.import_module(f"wonder_sync.resources.{resource}"), s_cls)
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


#: Resource methods not offered through ``with_raw_response``: iterators, bulk and polling.
NOT_RAW = {
    "customers": {"list", "upsert_many"},
    "payment_tokens": {"wait", "check_many", "export"},
    "orders": {"list"},
    "payments": {"create_many", "wait"},
}


@pytest.mark.parametrize("resource", ["customers", "payment_tokens", "orders", "payments"])
def test_with_raw_response_offers_every_single_result_method(resource: str) -> None:
    """Both twins offer the same raw methods: each resource method but iterators and bulk."""
    from wonder_async.testing import Emulator

    emu = Emulator()
    kw = {"app_id": emu.app_id, "private_key": emu.private_key_pem, "base_url": "http://x"}
    a_client, s_client = wonder_async.WonderClient(**kw), wonder_sync.WonderClient(**kw)
    try:
        methods = {
            name
            for name, member in _public(getattr(a_client, resource)).items()
            if callable(member) and name != "__init__"
        }
        a_raw = getattr(a_client.with_raw_response, resource)
        s_raw = getattr(s_client.with_raw_response, resource)
        offered = {n for n in vars(a_raw) if not n.startswith("_")}
        assert offered == methods - NOT_RAW[resource]
        assert offered == {n for n in vars(s_raw) if not n.startswith("_")}
        for name in offered:
            plain = inspect.signature(getattr(getattr(a_client, resource), name))
            raw = inspect.signature(getattr(a_raw, name))
            assert raw.parameters == plain.parameters, name
            assert raw.return_annotation == f"RawResponse[{plain.return_annotation}]", name
            assert (
                inspect.signature(getattr(s_raw, name)).parameters.keys() == raw.parameters.keys()
            )
    finally:
        s_client.close()


def test_public_names_load_lazily() -> None:
    """`import wonder_async` / `wonder_sync` load no key, model or loop-thread machinery.

    cryptography loads with the first key, cattrs and the models with the first resource,
    anyio with the blocking client's loop thread; every public name still resolves.
    """
    code = """
import sys
heavy = ("cryptography", "cattrs", "anyio", "wonder_async._models", "wonder_async._bulk")
def loaded():
    return sorted(m for m in sys.modules if m.startswith(heavy))
import wonder_async, wonder_sync
after_import = loaded()
from wonder_async import WonderClient
from wonder_sync import WonderClient as Blocking
after_client_import = loaded()
missing = [n for n in wonder_async.__all__ if getattr(wonder_async, n, None) is None]
missing += [n for n in wonder_sync.__all__ if getattr(wonder_sync, n, None) is None]
undir = sorted(set(wonder_sync.__all__) - set(dir(wonder_sync)))
print(after_import, after_client_import, missing, undir)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.split() == ["[]", "[]", "[]", "[]"], result.stdout + result.stderr
