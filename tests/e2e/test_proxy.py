"""HTTP(S) proxies (#23): HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment and ``proxy=``,
through a loopback forward/CONNECT proxy that records what passes. Proxy credentials reach the
proxy and nothing else: never an error message, a log record or a repr."""

from __future__ import annotations

import base64
import logging
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

import wonder_async
import wonder_sync
from tests.hostile_server import ForwardProxy
from wonder_async import APIConnectionError, ConfigurationError, WonderError
from wonder_async._wire import Paths

SECRET = "s3cr3t-pw"
CREDS = f"proxyuser:{SECRET}"
_PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with ForwardProxy(credentials=CREDS) as server:
        yield server  # type: ignore[misc]


def _with_creds(proxy: ForwardProxy) -> str:
    return f"http://{CREDS}@127.0.0.1:{proxy.port}"


def _args(emu: Any, **kw: Any) -> dict[str, Any]:
    return {"app_id": emu.app_id, "private_key": emu.private_key_pem, "base_url": emu.base_url,
            **kw}  # fmt: skip


WANTED_AUTH = "Basic " + base64.b64encode(CREDS.encode()).decode()


@pytest.mark.anyio
async def test_http_proxy_from_the_environment(
    wonder_emulator: Any, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY with credentials: every request goes through it, authenticated."""
    monkeypatch.setenv("HTTP_PROXY", _with_creds(proxy))
    async with wonder_async.WonderClient(**_args(wonder_emulator)) as wonder:
        assert await wonder.echo("via proxy") == "via proxy"
        customer = await wonder.customers.upsert(reference_number="p-1", name="N", phone="1")
    assert [m for m, _t, _a in proxy.seen] == ["POST", "POST"]
    assert proxy.seen[0][1] == wonder_emulator.base_url + Paths.ECHO
    assert {a for _m, _t, a in proxy.seen} == {WANTED_AUTH}
    assert customer.uuid is not None
    assert SECRET not in repr(wonder)


@pytest.mark.anyio
async def test_no_proxy_exempts_the_host(
    wonder_emulator: Any, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_PROXY naming the gateway's host: the proxy sees nothing."""
    monkeypatch.setenv("HTTP_PROXY", _with_creds(proxy))
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    async with wonder_async.WonderClient(**_args(wonder_emulator)) as wonder:
        assert await wonder.echo("direct") == "direct"
    assert proxy.seen == []


@pytest.mark.anyio
async def test_proxy_option_wins_and_empty_turns_it_off(
    wonder_emulator: Any, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """proxy= overrides the environment; proxy="" sends directly whatever it says."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    async with wonder_async.WonderClient(
        **_args(wonder_emulator, proxy=_with_creds(proxy))
    ) as wonder:
        assert await wonder.echo("option") == "option"
    assert len(proxy.seen) == 1
    async with wonder_async.WonderClient(**_args(wonder_emulator, proxy="")) as wonder:
        assert await wonder.echo("none") == "none"
    assert len(proxy.seen) == 1


def test_blocking_client_through_the_proxy(
    wonder_emulator_thread: Any, proxy: ForwardProxy
) -> None:
    """wonder_sync takes the same proxy= and sends through it."""
    with wonder_sync.WonderClient(
        **_args(wonder_emulator_thread, proxy=_with_creds(proxy))
    ) as wonder:
        assert wonder.echo("sync") == "sync"
    assert [(m, a) for m, _t, a in proxy.seen] == [("POST", WANTED_AUTH)]


@pytest.mark.anyio
async def test_https_gateway_tunnels_with_connect_and_credentials_never_show(
    proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    key_pair: Any,
) -> None:
    """An https gateway through HTTPS_PROXY: a CONNECT to its host:port with the credentials.
    When the proxy refuses (wrong password) or is down, the error names the proxy's host and
    port and never the password; nor does any log record."""
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    gateway = "https://gateway.invalid:8443"
    monkeypatch.setenv("HTTPS_PROXY", f"http://proxyuser:wrong-{SECRET}@127.0.0.1:{proxy.port}")
    async with wonder_async.WonderClient(
        app_id="a", private_key=key_pair.private_pem, base_url=gateway, max_retries=0
    ) as wonder:
        with pytest.raises(APIConnectionError) as info:
            await wonder.echo()
        texts += [str(info.value), repr(info.value), *traceback.format_exception(info.value)]
        assert f"127.0.0.1:{proxy.port}" in str(info.value)
        assert "407" in str(info.value)
        assert info.value.sent is False
    assert proxy.seen[0][:2] == ("CONNECT", "gateway.invalid:8443")
    port = proxy.port
    async with wonder_async.WonderClient(
        app_id="a",
        private_key=key_pair.private_pem,
        base_url=gateway,
        max_retries=0,
        proxy=f"http://proxyuser:{SECRET}@127.0.0.1:1",
    ) as wonder:
        with pytest.raises(APIConnectionError) as info:
            await wonder.echo()
        texts += [str(info.value), *traceback.format_exception(info.value)]
        assert "proxy http://127.0.0.1:1" in str(info.value)
    texts += [r.getMessage() for r in caplog.records]
    assert port
    assert [t for t in texts if SECRET in t] == []


@pytest.mark.parametrize("bad", [f"ftp://u:{SECRET}@proxy:21", f"socks5://u:{SECRET}@h:1"])
def test_bad_proxy_url_is_a_configuration_error_without_the_password(
    bad: str, key_pair: Any
) -> None:
    with pytest.raises(ConfigurationError) as info:
        wonder_async.WonderClient(
            app_id="a", private_key=key_pair.private_pem, base_url="http://x", proxy=bad
        )
    assert "proxy" in str(info.value)
    assert SECRET not in str(info.value)
    assert isinstance(info.value, WonderError)
