"""Seeded hostile-but-signed requests to every endpoint, then everything reads back (issue 18).

Every API route the emulator serves (found from its router, so endpoints added later are
fuzzed too) gets correctly signed requests whose body, query string and path parameters are
mutated from a valid request: wrong types, lists where enums are expected, deep nesting,
unicode digits, lone surrogates, NaN, control characters, odd encodings. Each answer must be
a JSON envelope that is not a 5xx (most are 400s; a mutation that happens to stay valid may
succeed). Afterwards every stored record must read back with a 2xx: customers (list, by uuid,
by reference), their tokens (list, check, the 3-D Secure page), orders (look-up, list), and
the SDK must parse the lists.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.emulator.conftest import card_body, customer_body
from tests.independent_signing import sign_headers
from wonder_async._wire import Paths
from wonder_async.testing import Emulator
from wonder_sync import WonderClient

PREFIX = Paths.CUSTOMERS.rsplit("/", 1)[0]
#: aiohttp answers a plain-text 400 to a request line longer than this (8190 bytes).
MAX_REQUEST_LINE = 8000
HOSTILE_TEXT = [
    "",
    " ",
    "²" * 16,
    "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢",
    "４２４２４２４２４２４２４２４２",
    "+5",
    " 5 ",
    "1_0",
    "５",
    "NaN",
    "Infinity",
    "1e3",
    "-1",
    "1.005",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "line\nbreak",
    "\ud800",
    "x\udfffy",
    "x" * 300,
    "9" * 5000,
    "9223372036854775808",
    "hkd",
    "2001",
    "0",
    "null",
    "[]",
    "../..",
    "%00",
    "Gateway",
    "<script>",
]
HOSTILE_KEYS = ["", "extra", "__proto__", "\ud800", "number", "amount", "uuid", "3ds"]


def _nest(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=12),
    st.integers(min_value=30, max_value=40).map(_nest),
)
HOSTILE = st.recursive(
    LEAF,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(HOSTILE_KEYS) | st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
RAW_BODIES = [
    b"\xef\xbb\xbf{}",
    json.dumps({"a": "b"}).encode("utf-16"),
    json.dumps({"a": "b"}).encode("utf-32"),
    b'{"a": "\xff\xfe"}',
    b'{"a": NaN}',
    b'{"a": 1e999}',
    b"{",
    b"[]",
    b"null",
    b'{"a": 1, "a": 1}',
    b'{"d": ' * 990 + b"1" + b"}" * 990,
    b"[" * 100_000,
]


def _encode_segment(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


class Env:
    """The emulator and the ids of a few real records to aim at."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        assert emu.private_key_pem is not None
        self.key = emu.private_key_pem
        host = urlsplit(emu.base_url)
        self.host, self.port = host.hostname or "127.0.0.1", host.port or 80
        self.uuid = self.ok("POST", Paths.CUSTOMERS, customer_body("fz-owner"))["customer"]["uuid"]
        tokens = Paths.PAYMENT_TOKENS.format(uuid=self.uuid)
        self.token = self.ok("POST", tokens, card_body("4242424242424242"))["payment_token"]
        self.pending = self.ok("POST", tokens, card_body("4000000000003220"))["payment_token"]
        order = {"reference_number": "fz-order", "charge_fee": "10.00", "currency": "HKD"}
        self.order = self.ok("POST", Paths.ORDERS, {"order": order, "customer_uuid": self.uuid})[
            "order"
        ]
        self.routes = sorted(
            {
                (route.method, route.resource.canonical)
                for route in emu.make_app().router.routes()
                if route.resource is not None
                and route.resource.canonical.startswith(PREFIX)
                and "{path}" not in route.resource.canonical
            }
        )

    def send(self, method: str, uri: str, body: bytes) -> tuple[int, bytes]:
        """One signed request on a fresh loopback connection; never waits forever."""
        headers = sign_headers(self.emu.app_id, self.key, method, uri, body)
        headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, uri, body=body or None, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def ok(self, method: str, uri: str, payload: Any = None) -> dict[str, Any]:
        body = b"" if payload is None else json.dumps(payload).encode()
        status, raw = self.send(method, uri, body)
        doc = strict_json(raw)
        assert status == 200, (method, uri, status, doc)
        assert doc["code"] == 200
        data: dict[str, Any] = doc["data"]
        return data

    def template(self, method: str, path: str) -> tuple[dict[str, Any] | None, list[list[str]]]:
        """A valid body and query for the route."""
        number = self.order["number"]
        charge = {
            "amount": "1.00",
            "token": self.token["token"],
            "consume_mode": "sales",
            "entry_type": "mit",
        }
        bodies: dict[tuple[str, str], dict[str, Any]] = {
            ("POST", Paths.ECHO): {"message": "hi"},
            ("POST", Paths.CUSTOMERS): customer_body("fz-1", email="a@b.co"),
            ("PUT", Paths.CUSTOMER): {"name": "N", "default_payment_method": "Alipay"},
            ("POST", Paths.CUSTOMER_BY_TOKEN): {"token": self.token["token"]},
            ("POST", Paths.PAYMENT_TOKENS): card_body("4000000000003220"),
            ("DELETE", Paths.PAYMENT_TOKENS): {"token": "no-such-token"},
            ("POST", Paths.PAYMENT_TOKEN_CHECK): {
                "payment_token": {
                    "token": self.pending["token"],
                    "verify_uuid": self.pending["verify_uuid"],
                }
            },
            ("POST", Paths.ORDERS): {
                "order": {
                    "reference_number": "fz-o",
                    "charge_fee": "1.00",
                    "currency": "HKD",
                    "note": "n",
                    "line_items": [
                        {
                            "purchasable_type": "Charge",
                            "price": "1.00",
                            "quantity": 1,
                            "total": "1.00",
                        }
                    ],
                },
                "customer_uuid": self.uuid,
            },
            ("POST", Paths.ORDER_CHECK): {"order": {"number": number}},
            ("POST", Paths.ORDER_VOID): {"order": {"number": "no-such-order"}},
            ("POST", Paths.ORDER_REFUND): {
                "order": {"number": number},
                "transaction": {"uuid": "no-such-transaction"},
                "refund": {"amount": "1.00"},
            },
            ("POST", Paths.OPEN_PAYMENTS): {
                "order": {"reference_number": "fz-p", "charge_fee": "1.00", "currency": "HKD"},
                "payment": {"payment_token": charge},
            },
        }
        queries: dict[tuple[str, str], list[list[str]]] = {
            ("GET", Paths.CUSTOMERS): [["limit", "5"], ["offset", "0"], ["filter[name][_eq]", "x"]],
            ("GET", Paths.ORDERS_LIST): [
                ["limit", "5"],
                ["offset", "0"],
                ["filter[charge_fee][_gte]", "1"],
            ],
            ("GET", Paths.PAYMENT_TOKENS): [["token_type", "CreditCard"]],
            ("POST", Paths.ORDERS): [["with_payment_link", "true"]],
        }
        return bodies.get((method, path)), queries.get((method, path), [])


def strict_json(raw: bytes) -> Any:
    """Parse as a strict client would: UTF-8, no NaN/Infinity."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(raw.decode("utf-8"), parse_constant=refuse)


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    # errors=http: the fuzz counts refusals by status (the handlers and bodies are the same
    # under errors=envelope, which only answers them with HTTP 200).
    with Emulator.in_thread(readings={"errors": "http"}) as emu:
        yield Env(emu)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*at, i))


def _replace(value: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[at[0]] = _replace(copy[at[0]], at[1:], new)  # type: ignore[call-overload]
    return copy


@st.composite
def hostile_request(draw: st.DrawFn, env: Env) -> tuple[str, str, bytes]:
    method, path = draw(st.sampled_from(env.routes))
    body, query = env.template(method, path)
    # Path parameters: the real ones, or hostile text.
    params = {"uuid": env.uuid, "ref": "fz-owner"}
    for name in params:
        if "{" + name + "}" in path and draw(st.booleans()):
            text = draw(st.sampled_from(HOSTILE_TEXT) | st.text(min_size=1, max_size=12))
            if text.strip(".") and text:
                params[name] = text
    uri = path.format(**{k: _encode_segment(v) for k, v in params.items()})
    # Query: keep, mutate a value, or add a hostile pair.
    pairs = [list(p) for p in query]
    choice = draw(st.sampled_from(["keep", "value", "add", "none"]))
    if choice == "value" and pairs:
        i = draw(st.integers(0, len(pairs) - 1))
        pairs[i][1] = draw(st.sampled_from(HOSTILE_TEXT) | st.text(max_size=8))
    elif choice == "add":
        key = draw(st.sampled_from(["limit", "offset", "filter[name][_like]", "filter[x][_eq]",
                                    "filter[name]", "token_type", "sort", "\ud800"]))  # fmt: skip
        pairs.append([key, draw(st.sampled_from(HOSTILE_TEXT))])
    elif choice == "none":
        pairs = []
    if pairs:
        uri += "?" + "&".join(f"{_encode_segment(k)}={_encode_segment(v)}" for k, v in pairs)
    # Body: a hostile value somewhere in the valid one, a hostile extra key, or raw bytes.
    payload: Any = body if body is not None else {}
    how = draw(st.sampled_from(["replace", "replace", "add", "whole", "raw", "keep"]))
    if how == "raw":
        return method, uri, draw(st.sampled_from(RAW_BODIES))
    if how == "replace":
        at = draw(st.sampled_from(list(_paths(payload))[1:] or [()]))
        payload = _replace(payload, at, draw(HOSTILE))
    elif how == "add":
        targets = [p for p in _paths(payload) if isinstance(_get(payload, p), dict)]
        at = draw(st.sampled_from(targets))
        key = draw(st.sampled_from(HOSTILE_KEYS))
        payload = _replace(payload, at, {**_get(payload, at), key: draw(HOSTILE)})
    elif how == "whole":
        payload = draw(HOSTILE)
    if method == "GET" and how == "keep":
        return method, uri, b""
    text = json.dumps(payload, ensure_ascii=draw(st.booleans()), allow_nan=True)
    return method, uri, text.encode("utf-8", "surrogatepass")


def _get(value: Any, at: tuple[Any, ...]) -> Any:
    for step in at:
        value = value[step]
    return value


def _read_everything_back(env: Env) -> int:
    """Read every stored record back; every answer must be a 2xx envelope. Returns reads."""
    reads = 0
    customers = env.ok("GET", Paths.CUSTOMERS + "?limit=1000")["customers"]
    reads += 1
    assert len(customers) == len(env.emu.state.customers)
    for customer in customers:
        uuid = _encode_segment(customer["uuid"])
        assert env.ok("GET", Paths.CUSTOMER.format(uuid=uuid))["customer"] == customer
        ref = _encode_segment(customer["reference_number"])
        assert env.ok("GET", Paths.CUSTOMER_BY_REF.format(ref=ref))["customer"] == customer
        tokens = env.ok("GET", Paths.PAYMENT_TOKENS.format(uuid=uuid))["payment_tokens"]
        reads += 3
        for token in tokens:
            check = {"payment_token": {"token": token["token"]}}
            env.ok("POST", Paths.PAYMENT_TOKEN_CHECK.format(uuid=uuid), check)
            env.ok("POST", Paths.CUSTOMER_BY_TOKEN, {"token": token["token"]})
            reads += 2
            if token["verify_url"]:
                page = urlsplit(token["verify_url"]).path
                conn = http.client.HTTPConnection(env.host, env.port, timeout=30)
                try:
                    conn.request("GET", page)
                    resp = conn.getresponse()
                    assert resp.status == 200, page
                    resp.read().decode("utf-8")
                finally:
                    conn.close()
                reads += 1
    for number, order in list(env.emu.state.orders.items()):
        found = env.ok("POST", Paths.ORDER_CHECK, {"order": {"number": number}})["order"]
        assert found["number"] == number
        by_ref = {"order": {"reference_number": order["reference_number"]}}
        assert env.ok("POST", Paths.ORDER_CHECK, by_ref)["order"]["number"] == number
        reads += 2
    if ("GET", Paths.ORDERS_LIST) in env.routes:
        env.ok("GET", Paths.ORDERS_LIST + "?limit=1000")
        reads += 1
    # The SDK reads the same records into its models.
    with WonderClient(app_id=env.emu.app_id, private_key=env.key,
                      base_url=env.emu.base_url) as client:  # fmt: skip
        assert len(list(client.customers.list(page_size=1000))) == len(customers)
        for customer in customers:
            client.payment_tokens.list(customer["uuid"])
    return reads


def test_hostile_requests_get_4xx_envelopes_and_everything_reads_back(env: Env) -> None:
    statuses: dict[int, int] = {}
    before = dict(env.emu.requests)

    @seed(18)
    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def hostile(data: st.DataObject) -> None:
        method, uri, body = data.draw(hostile_request(env))
        status, raw = env.send(method, uri, body)
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, (method, uri, body[:200], raw[:500])
        if len(uri) > MAX_REQUEST_LINE:
            # The HTTP layer refuses it before any handler, as a gateway's proxy would.
            assert status == 400
            return
        doc = strict_json(raw)  # an envelope, valid UTF-8 JSON without NaN
        error = {"error_code"} if status >= 400 else set()  # every refusal names its code
        assert set(doc) == {"code", "message", "data"} | error, doc
        if status >= 400:
            assert doc["data"] is None
            assert isinstance(doc["message"], str)
            assert doc["message"], doc
        if status == 400:
            assert ": " in doc["message"], doc  # "field: rule"
            assert doc["message"].split(": ", 1)[0], doc

    hostile()
    total = sum(statuses.values())
    refused = sum(n for s, n in statuses.items() if 400 <= s < 500)
    assert refused >= total * 0.6, statuses  # hostile input is mostly refused, never a 5xx
    hit = {name for name, n in env.emu.requests.items() if n > before.get(name, 0)}
    assert len(hit) == len(env.routes), (sorted(hit), env.routes)  # every endpoint was fuzzed
    assert _read_everything_back(env) > 5
