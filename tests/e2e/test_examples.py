"""Every file in examples/ runs as a user runs it and prints what its guide says it prints.

Scripts run in a subprocess (``python examples/NAME.py``) against the emulator they start
themselves; the shell examples run with bash in a fresh directory; the pytest example runs
under pytest; the FastAPI and Django webhook recipes get real webhooks signed by the emulator.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from wonder_async import WonderClient
from wonder_async.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TIMEOUT = 120  # seconds for one example; they take a few

#: What each script prints (regular expressions, in order). A new example must be listed here.
SCRIPTS: dict[str, list[str]] = {
    "quickstart.py": [r"customer [0-9a-f-]{36}", r"card bound success", r"order \w+ invoiced"],
    "configuration.py": [
        r"echo: Hello,Wonder!",
        r"echo with a 5 s deadline: quick",
        r"without a key: private_key: pass private_key= or set WONDER_PRIVATE_KEY",
    ],
    "blocking.py": [
        r"customer [0-9a-f-]{36}",
        r"upserted from 8 threads: 20",
        r"customers in total: 21",
    ],
    "customers.py": [
        r"same customer: True taiman@example.com",
        r"looked up: Chan Tai Man True",
        r"updated: new@example.com 12345678",
        r"listed: 6",
        r"not found: 404",
        r"invalid: customer.name required",
    ],
    "cards_3ds.py": [
        r"frictionless: success",
        r"challenged: pending",
        r"issuer sends the browser back to https://shop.example/3ds/ok",
        r"after 3-D Secure: success CreditCard\(number='400000\*\*\*\*\*\*3220'",
        r"declined: [A-Z0-9_]+ ",
        r"usable tokens: 2",
    ],
    "errors.py": [
        r"upsert survived 503 and a reset: u-42",
        r"no retries: ServerError 503 retryable: True",
        r"quote to Wonder support: True",
        r"order create not repeated, sent: True",
        r"call orders.get\(reference_number='o-1'\)",
        r"the order exists after all: o-1 invoiced",
        r"not found: 404 1 attempt",
        r"invalid: order.charge_fee type",
        r"caught as WonderError: NotFoundError",
    ],
    "request_ids.py": [
        r"last request id: [0-9a-f-]{36}",
        r"raw: 200 application/json; charset=utf-8 1 attempt",
        r"  request id: [0-9a-f-]{36}",
        r"  parsed: True",
        r"after a 503: 200 2 attempts",
        r"error: 404 True",
        r"  headers: application/json; charset=utf-8",
        r"blocking, one id per thread: 3",
        r"blocking raw: 200 ping True",
    ],
    "payments.py": [
        r"charged 21.00 Sales card 424242 \.\.\. 4242",
        r"order paid paid 21.00",
        r"second call recovered the first charge: True",
        r"refunded 5.00; order is now partial_paid",
        r"direct payment invoice-1002 paid",
        r"invoice-1003: declined \([A-Z0-9_]+: Insufficient funds\)",
        r"invoice-1001 partial_paid \['Sales:21.00:ok', 'Refund:5.00:ok'\]",
        r"invoice-1002 paid \['Sales:9.90:ok'\]",
        r"invoice-1003 unpaid \['Sales:15.00:failed'\]",
    ],
    "observability.py": [
        r"log INFO customers.upsert attempt=1 status=503 request_id=[0-9a-f-]{36}",
        r"POST /members/\{ref\}",
        r"wonder customers.upsert  POST /svc/payment/api/v1/openapi/customers -> 200, attempts=2",
        r"event retry: attempt 1 failed with http_503, retried after \d+\.\d\d s",
        r"wonder orders.create  POST /svc/payment/api/v1/openapi/orders -> 200, attempts=1",
        r"metric wonder.client.attempts \[\{attempt\}\] \{wonder.operation=customers.upsert\}: 2",
        r"metric wonder.client.attempts \[\{attempt\}\] \{wonder.operation=orders.create\}: 1",
        r"metric wonder.client.call.duration \[s\] \{wonder.operation=customers.upsert, "
        r"wonder.outcome=success\}: 1",
        r"metric wonder.client.call.duration \[s\] \{wonder.operation=orders.create, "
        r"wonder.outcome=success\}: 1",
        r"metric wonder.client.calls.in_flight \[\{call\}\] "
        r"\{wonder.operation=customers.upsert\}: 0",
        r"metric wonder.client.calls.in_flight \[\{call\}\] \{wonder.operation=orders.create\}: 0",
        r"metric wonder.client.retries \[\{retry\}\] \{wonder.operation=customers.upsert, "
        r"wonder.retry_reason=http_503\}: 1",
        r"metric wonder.client.signing.duration \[s\] \{wonder.operation=customers.upsert\}: 2",
        r"metric wonder.client.signing.duration \[s\] \{wonder.operation=orders.create\}: 1",
    ],
    "otel_aiohttp_server.py": [
        r'POST /members/u-42 -> 200 \{"uuid": "[0-9a-f-]{36}"\}',
        r"trace [0-9a-f]{32}",
        r"checkout  CLIENT  span=[0-9a-f]{16} parent=-",
        r"POST /members/\{ref\}  SERVER  span=[0-9a-f]{16} parent=[0-9a-f]{16} -> 200",
        r"wonder customers.upsert  CLIENT  span=[0-9a-f]{16} parent=[0-9a-f]{16} -> 200",
    ],
    "webhooks_aiohttp.py": [
        r"verified webhook: order.created o-1 unpaid",
        r"verified webhook: order.paid o-1 paid",
        r"order state: completed paid",
    ],
}
#: Modules that a framework serves; checked below with real signed webhooks, not run as scripts
#: (observability_fastapi.py: by tests/e2e/test_telemetry_fastapi.py, over OTLP).
RECIPES = {"webhooks_fastapi.py", "webhooks_django.py", "observability_fastapi.py"}
#: What each shell example prints (regular expressions, in order).
SHELL: dict[str, list[str]] = {
    "make_keys.sh": [r"wrote private_key.pem \(secret\) and public_key.pem \(upload this one\)"],
    "emulator_any_language.sh": [
        r"wrote private_key.pem",
        r"app_id\s+my-test-app",
        r"base_url\s+http://127.0.0.1:\d+",
        r"dashboard\s+http://127.0.0.1:\d+/",
        r'"code": 200, "message": "success", "data": \{"message": "Hello,Wonder!"\}',
        r'"reset": true',
        r'"requests": \{\}, "faults": \{\}',
    ],
}
PYTEST = {"test_with_emulator.py"}
#: Deployment manifests; tests/e2e/test_cli_billing.py runs their commands as each pod would.
MANIFESTS = {"billing_job.yaml"}
#: Notebook cells (IPython syntax), run on a real kernel by tests/notebook/test_notebook.py.
NOTEBOOKS = {"notebook.ipy"}
#: What each cell (section) of notebook.ipy prints, exactly; tests/notebook checks it on a kernel.
NOTEBOOK_CELLS: dict[str, str] = {
    "blocking": "customer nb-1 card bound True\n",
    "await": "async: Ada [True]\n",
    "mixed": "blocking again: hello Ada\n",
}


def _env() -> dict[str, str]:
    """The user's environment without WONDER_* settings, with the venv's `wonder` on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WONDER_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(args: list[str], cwd: Path, **env: str) -> str:
    result = subprocess.run(
        args,
        cwd=cwd,
        env={**_env(), **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"{args} exited {result.returncode}:\n{result.stderr}"
    return result.stdout


def _assert_in_order(output: str, patterns: list[str]) -> None:
    position = 0
    for pattern in patterns:
        match = re.compile(pattern).search(output, position)
        assert match, f"{pattern!r} not found in order in:\n{output}"
        position = match.end()


def test_every_example_is_checked() -> None:
    """No file in examples/ escapes these tests."""
    files = {p.name for p in EXAMPLES.iterdir() if p.is_file()}
    assert files == set(SCRIPTS) | RECIPES | set(SHELL) | PYTEST | MANIFESTS | NOTEBOOKS


_SPAN_LINE = re.compile(
    r"^ +(?P<name>\S.*?)  (?P<kind>[A-Z]+)  span=(?P<id>[0-9a-f]{16}) "
    r"parent=(?P<parent>[0-9a-f]{16}|-)",
    re.M,
)


def _spans_nest_in_the_request(output: str) -> None:
    """otel_aiohttp_server.py: one trace, in which the SDK's span is a child of the server's
    request span, itself a child of the calling service's span (from its traceparent)."""
    assert len(re.findall(r"^trace ", output, re.M)) == 1, output
    spans = {m["name"]: m for m in _SPAN_LINE.finditer(output)}
    assert set(spans) == {"checkout", "POST /members/{ref}", "wonder customers.upsert"}, output
    caller, server, sdk = (
        spans["checkout"],
        spans["POST /members/{ref}"],
        spans["wonder customers.upsert"],
    )
    assert (caller["kind"], server["kind"], sdk["kind"]) == ("CLIENT", "SERVER", "CLIENT")
    assert sdk["parent"] == server["id"], output
    assert server["parent"] == caller["id"], output
    assert caller["parent"] == "-", output


#: More than the printed lines: checks of a script's output beyond SCRIPTS' patterns.
OUTPUT_CHECKS = {"otel_aiohttp_server.py": _spans_nest_in_the_request}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_runs_and_prints_what_the_guide_says(name: str, tmp_path: Path) -> None:
    """`python examples/NAME.py` exits 0 and prints the lines its guide shows."""
    output = _run([sys.executable, str(EXAMPLES / name)], cwd=tmp_path)
    _assert_in_order(output, SCRIPTS[name])
    if (check := OUTPUT_CHECKS.get(name)) is not None:
        check(output)


def _needs(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} on PATH")


@pytest.mark.anyio
async def test_make_keys_makes_a_pair_the_emulator_and_client_accept(tmp_path: Path) -> None:
    """The openssl commands make a key pair: the client signs with the private half and the
    emulator, given the public half as `wonder emulator --public-key` would be, accepts it."""
    _needs("openssl")
    output = _run(["bash", str(EXAMPLES / "make_keys.sh")], cwd=tmp_path)
    _assert_in_order(output, SHELL["make_keys.sh"])
    assert (tmp_path / "private_key.pem").stat().st_mode & 0o077 == 0
    async with (
        Emulator(app_id="my-app", public_key=tmp_path / "public_key.pem") as emu,
        WonderClient(
            app_id="my-app", private_key=str(tmp_path / "private_key.pem"), base_url=emu.base_url
        ) as wonder,
    ):
        assert await wonder.echo("keys work") == "keys work"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_emulator_for_any_language(tmp_path: Path) -> None:
    """A client with only openssl and curl signs a call the standalone emulator accepts, and
    reset empties the counters; the script runs copied alone into an empty directory, as its
    comment says."""
    _needs("openssl", "curl", "xxd")
    script = tmp_path / "emulator_any_language.sh"
    script.write_bytes((EXAMPLES / "emulator_any_language.sh").read_bytes())
    output = _run(["bash", script.name], cwd=tmp_path, PORT=str(_free_port()))
    _assert_in_order(output, SHELL["emulator_any_language.sh"])


def test_pytest_example_passes(tmp_path: Path) -> None:
    """The fixtures example passes under pytest, as the emulator guide says."""
    output = _run(
        [sys.executable, "-m", "pytest", str(EXAMPLES / "test_with_emulator.py"), "-q"],
        cwd=ROOT,
    )
    assert re.search(r"\b3 passed\b", output), output


# --- webhook recipes for FastAPI and Django, fed real webhooks ------------------------------


@pytest.fixture
async def deliveries(wonder_emulator: Emulator) -> list[tuple[str, dict[str, str], bytes]]:
    """Real `order.created` and `order.paid` webhooks the emulator sent to /hooks/wonder?shop=1,
    as (path with query, headers, raw body)."""
    received: list[tuple[str, dict[str, str], bytes]] = []

    async def record(request: web.Request) -> web.Response:
        received.append((request.raw_path, dict(request.headers), await request.read()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hooks/wonder", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    emu = wonder_emulator
    try:
        async with WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder:
            order = await wonder.orders.create(
                reference_number="o-1",
                charge_fee="21.00",
                currency="HKD",
                callback_url=f"http://127.0.0.1:{port}/hooks/wonder?shop=1",
                with_payment_link=True,
            )
            assert order.payment_link is not None
            async with aiohttp.ClientSession() as browser:
                await browser.post(order.payment_link)
            await emu.wait_for_webhooks()
    finally:
        await runner.cleanup()
    assert [h["X-Action"] for _, h, _ in received] == ["order.created", "order.paid"]
    return received


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def recipe_env(wonder_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment variables the FastAPI recipe reads, set to the emulator's app."""
    monkeypatch.setenv("WONDER_WEBHOOK_PUBLIC_KEY", wonder_emulator.webhook_public_key_pem)
    monkeypatch.setenv("WONDER_APP_ID", wonder_emulator.app_id)


def _tampered(body: bytes) -> bytes:
    """The same webhook with one key added: still valid JSON, no longer what was signed."""
    assert body.rstrip().endswith(b"}")
    return body.rstrip()[:-1] + b', "tampered": true}'


@pytest.mark.anyio
async def test_fastapi_recipe_accepts_real_webhooks_and_refuses_forged(
    deliveries: list[tuple[str, dict[str, str], bytes]], recipe_env: None
) -> None:
    """The FastAPI recipe answers 200 to each genuine webhook and 400 to a tampered body."""
    pytest.importorskip("fastapi", reason="pip install -e '.[examples]' for the FastAPI recipe")
    import httpx

    app = _load("webhooks_fastapi").app
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for uri, headers, body in deliveries:
            sent = {k: v for k, v in headers.items() if k.lower() not in {"host", "content-length"}}
            assert (await client.post(uri, content=body, headers=sent)).status_code == 200
            forged = await client.post(uri, content=_tampered(body), headers=sent)
            assert forged.status_code == 400


@pytest.mark.anyio
async def test_django_recipe_accepts_real_webhooks_and_refuses_forged(
    deliveries: list[tuple[str, dict[str, str], bytes]], wonder_emulator: Emulator
) -> None:
    """The Django view answers 200 to each genuine webhook and 400 to a tampered body."""
    pytest.importorskip("django", reason="pip install -e '.[examples]' for the Django recipe")
    import django
    from django.conf import settings
    from django.test import Client, override_settings

    if not settings.configured:
        settings.configure(ALLOWED_HOSTS=["testserver"], INSTALLED_APPS=[], MIDDLEWARE=[])
        django.setup()
    with override_settings(
        WONDER_WEBHOOK_PUBLIC_KEY=wonder_emulator.webhook_public_key_pem,
        WONDER_APP_ID=wonder_emulator.app_id,
    ):
        module = _load("webhooks_django")
        with override_settings(ROOT_URLCONF=module):
            client = Client()
            for uri, headers, body in deliveries:
                sent: dict[str, Any] = {
                    k: v
                    for k, v in headers.items()
                    if k.lower() not in {"host", "content-type", "content-length"}
                }
                ok = client.post(uri, body, content_type="application/json", headers=sent)
                assert ok.status_code == 200
                forged = client.post(
                    uri, _tampered(body), content_type="application/json", headers=sent
                )
                assert forged.status_code == 400
