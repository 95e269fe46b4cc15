"""A client written only from wonder-api.md: raw aiohttp plus tests/independent_signing.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from tests.independent_signing import sign_headers
from wonder_async.testing import Emulator

API = "/svc/payment/api/v1/openapi"

Tamper = Callable[[str, bytes], tuple[str, bytes]]


class RawClient:
    """Signs with tests/independent_signing.py and speaks plain HTTP."""

    def __init__(self, session: aiohttp.ClientSession, emu: Emulator, **over: Any) -> None:
        self.session = session
        self.base = emu.base_url
        self.app_id: str = over.get("app_id", emu.app_id)
        self.key: str = over.get("key", emu.private_key_pem)

    async def call(
        self,
        method: str,
        uri: str,
        payload: Any = None,
        *,
        tamper: Tamper | None = None,
        now: dt.datetime | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Send one signed request; return the status and the parsed JSON (or the text)."""
        body = b"" if payload is None else json.dumps(payload).encode()
        signed = sign_headers(self.app_id, self.key, method, uri, body, now=now)
        if headers is not None:
            signed = headers
        sent_uri, sent_body = (uri, body) if tamper is None else tamper(uri, body)
        async with self.session.request(
            method, self.base + sent_uri, data=sent_body or None, headers=signed
        ) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text)
            except ValueError:
                return resp.status, text

    async def ok(self, method: str, uri: str, payload: Any = None) -> dict[str, Any]:
        """Send one signed request that must succeed; return the envelope's ``data``."""
        status, doc = await self.call(method, uri, payload)
        assert status == 200, (status, doc)
        assert doc["code"] == 200
        assert doc["message"] == "success"
        data: dict[str, Any] = doc["data"]
        return data


@pytest.fixture
async def raw(wonder_emulator: Emulator) -> AsyncIterator[RawClient]:
    """A docs-only client for the test's emulator."""
    async with aiohttp.ClientSession() as session:
        yield RawClient(session, wonder_emulator)


def customer_body(ref: str, **kw: Any) -> dict[str, Any]:
    """An upsert body with the required fields."""
    return {"customer": {"reference_number": ref, "name": "Tai Man", "phone": "1", **kw}}


def card_body(number: str, **kw: Any) -> dict[str, Any]:
    """A create-token body for ``number`` with documented fields."""
    return {
        "card": {
            "number": number,
            "exp_month": "12",
            "exp_year": "2099",
            "holder_name": "Chan Tai Man",
            "cvv": "7319",
            "3ds": {
                "success_return_url": "https://shop.example/3ds/ok",
                "fail_return_url": "https://shop.example/3ds/fail",
            },
            "transaction_type": "unscheduled_cof",
            **kw,
        }
    }


@pytest.fixture
def wonder_readings() -> dict[str, str] | None:
    """The tests here read refusals by their HTTP status, so they run under ``errors=http``
    (the refusal bodies are the same under both); test_readings.py checks every reading's
    shapes, ``errors=envelope`` (the default) included, and overrides this."""
    return {"errors": "http"}
