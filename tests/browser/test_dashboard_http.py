"""The dashboard over plain HTTP: escaping, secrets kept off pages, CSRF and Host checks."""

from __future__ import annotations

import aiohttp
import pytest

from tests.browser.conftest import csrf_of
from tests.emulator.conftest import API, RawClient, card_body, customer_body
from wonder_async.testing import Emulator

pytestmark = pytest.mark.anyio

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def _get(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    async with session.get(url, allow_redirects=False, headers=headers) as resp:
        return resp.status, await resp.text()


async def _post(
    session: aiohttp.ClientSession, url: str, form: dict[str, str], headers: dict[str, str]
) -> tuple[int, str, str]:
    async with session.post(url, data=form, headers=headers, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", ""), await resp.text()


async def test_hostile_customer_fields_are_escaped_on_every_page(
    dash_emu: Emulator, raw: RawClient, session: aiohttp.ClientSession
) -> None:
    """A customer named with markup shows as text: no tag of it reaches the page."""
    data = await raw.ok(
        "POST", f"{API}/customers", customer_body('ref"><b>1', name=HOSTILE, company_name=HOSTILE)
    )
    uuid = data["customer"]["uuid"]
    for path in ("/", "/?ref=ref", f"/dashboard/customers/{uuid}"):
        status, page = await _get(session, dash_emu.base_url + path)
        assert status == 200, path
        assert "<script>alert" not in page, path
        assert "<img src=x" not in page, path
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page, path
        assert "ref&quot;&gt;&lt;b&gt;1" in page, path
        assert "<b>1" not in page, path


async def test_search_by_reference_lists_only_matches(
    dash_emu: Emulator, raw: RawClient, session: aiohttp.ClientSession
) -> None:
    """Searching finds customers whose reference contains the text, and no others."""
    for ref in ("alice-1", "alice-2", "bob-1"):
        await raw.ok("POST", f"{API}/customers", customer_body(ref))
    _, page = await _get(session, dash_emu.base_url + "/?ref=ALICE")
    assert "alice-1" in page
    assert "alice-2" in page
    assert "bob-1" not in page
    _, page = await _get(session, dash_emu.base_url + "/?ref=nobody")
    assert "No customer&#x27;s reference contains" in page


async def test_pages_show_masked_cards_and_never_a_key(
    dash_emu: Emulator, raw: RawClient, session: aiohttp.ClientSession
) -> None:
    """A token shows as 400000******3220 pending; no page holds the number, CVV or a key."""
    uuid = (await raw.ok("POST", f"{API}/customers", customer_body("masked")))["customer"]["uuid"]
    await raw.ok("POST", f"{API}/customers/{uuid}/payment_tokens", card_body("4000000000003220"))
    secrets = [
        "4000000000003220",
        "7319",  # the CVV card_body sends
        dash_emu.private_key_pem.splitlines()[1],  # type: ignore[union-attr]
        dash_emu.webhook_private_key_pem.splitlines()[1],
    ]
    pages = ["/", f"/dashboard/customers/{uuid}", "/dashboard/orders", "/dashboard/webhooks"]
    pages += ["/dashboard/faults", "/dashboard/requests"]
    for path in pages:
        status, page = await _get(session, dash_emu.base_url + path)
        assert status == 200, path
        for secret in secrets:
            assert secret not in page, (path, secret[:8])
    _, page = await _get(session, f"{dash_emu.base_url}/dashboard/customers/{uuid}")
    assert "400000******3220" in page
    assert "pending" in page


async def test_actions_need_the_token_and_the_same_origin(
    dash_emu: Emulator, raw: RawClient, session: aiohttp.ClientSession
) -> None:
    """Reset is refused (403, nothing lost) without the CSRF token or from another origin."""
    await raw.ok("POST", f"{API}/customers", customer_body("keep-me"))
    base = dash_emu.base_url
    _, page = await _get(session, base + "/")
    token = csrf_of(page)
    url = base + "/dashboard/reset"
    own = {"Origin": base}
    refused = [
        ({}, own),  # no token
        ({"csrf": "wrong"}, own),
        ({"csrf": token}, {}),  # no Origin and no Referer
        ({"csrf": token}, {"Origin": "http://evil.example"}),
        ({"csrf": token}, {"Origin": "null"}),
        ({"csrf": token}, {"Referer": "http://evil.example/page"}),
        ({"csrf": token}, {"Origin": base.replace("127.0.0.1", "127.0.0.2")}),
    ]
    for form, headers in refused:
        status, _, text = await _post(session, url, form, headers)
        assert status == 403, (form, headers)
        assert "Refused" in text
        assert "keep-me" in dash_emu.state.by_ref
    status, location, _ = await _post(session, url, {"csrf": token}, {"Referer": base + "/"})
    assert (status, location) == (303, "/?done=reset")
    assert dash_emu.state.customers == {}
    _, page = await _get(session, base + location)
    assert "were reset" in page


async def test_a_foreign_host_name_is_refused(
    dash_emu: Emulator, session: aiohttp.ClientSession
) -> None:
    """A DNS-rebinding page (Host: evil.example) cannot read the dashboard or its token."""
    status, text = await _get(session, dash_emu.base_url + "/", headers={"Host": "evil.example"})
    assert status == 403
    assert "csrf" not in text
    port = dash_emu.base_url.rsplit(":", 1)[1]
    status, _ = await _get(session, dash_emu.base_url + "/", headers={"Host": f"localhost:{port}"})
    assert status == 200


async def test_faults_can_be_set_shown_refused_and_cleared(
    dash_emu: Emulator, raw: RawClient, session: aiohttp.ClientSession
) -> None:
    """A fault spec set on the page applies to the API; a bad one is shown, then cleared."""
    base = dash_emu.base_url
    _, page = await _get(session, base + "/dashboard/faults")
    token = csrf_of(page)
    headers = {"Origin": base}
    form = {"csrf": token, "spec": "echo:script=503|ok"}
    status, location, _ = await _post(session, base + "/dashboard/faults", form, headers)
    assert status == 303
    _, page = await _get(session, base + location)
    assert "The fault spec is set" in page
    assert "503 | ok" in page
    assert (await raw.call("POST", f"{API}/echo", {"message": "hi"}))[0] == 503
    assert (await raw.call("POST", f"{API}/echo", {"message": "hi"}))[0] == 200

    form["spec"] = "<b>x</b>:503=1"
    status, _, page = await _post(session, base + "/dashboard/faults", form, headers)
    assert status == 400
    assert "Not set: unknown route &#x27;&lt;b&gt;x&lt;/b&gt;&#x27;" in page
    assert 'value="&lt;b&gt;x&lt;/b&gt;:503=1"' in page  # kept in the field to fix
    assert "<b>" not in page

    await _post(session, base + "/dashboard/faults", {**form, "spec": "*:500=1"}, headers)
    assert dash_emu.faults.rules
    status, location, _ = await _post(
        session, base + "/dashboard/faults/clear", {"csrf": token}, headers
    )
    assert status == 303
    assert not dash_emu.faults.rules
    _, page = await _get(session, base + location)
    assert "No rate rules set." in page


async def test_request_counts_per_route(
    dash_emu: Emulator, raw: RawClient, session: aiohttp.ClientSession
) -> None:
    """The requests page counts each signed API call under its route."""
    for _ in range(3):
        await raw.ok("POST", f"{API}/echo", {"message": "hi"})
    _, page = await _get(session, dash_emu.base_url + "/dashboard/requests")
    assert '<code>echo</code></th><td class="num">3</td>' in page
    assert "3 signed API requests so far." in page


async def test_each_page_is_titled_by_its_heading(
    dash_emu: Emulator, raw: RawClient, session: aiohttp.ClientSession
) -> None:
    """Browser tabs and screen readers tell the pages apart; a hostile reference stays text."""
    data = await raw.ok("POST", f"{API}/customers", customer_body("<i>t</i>"))
    uuid = data["customer"]["uuid"]
    expected = {
        "/": "Customers",
        f"/dashboard/customers/{uuid}": "Customer &lt;i&gt;t&lt;/i&gt;",
        "/dashboard/webhooks": "Webhooks",
        "/dashboard/faults": "Faults",
    }
    for path, title in expected.items():
        _, page = await _get(session, dash_emu.base_url + path)
        assert f"<title>{title} · Wonder emulator dashboard</title>" in page, path


async def test_orders_show_totals_and_every_transaction(
    dash_emu: Emulator, raw: RawClient, session: aiohttp.ClientSession
) -> None:
    """A partial sale, its refund and a declined charge all show under the order, masked."""
    uuid = (await raw.ok("POST", f"{API}/customers", customer_body("payer")))["customer"]["uuid"]
    tokens = []
    for number in ("4242424242424242", "4000000000009995"):  # the second declines charges
        created = await raw.ok("POST", f"{API}/customers/{uuid}/payment_tokens", card_body(number))
        tokens.append(created["payment_token"]["token"])
    order = {"reference_number": "o-1", "charge_fee": "10.00", "currency": "HKD"}
    await raw.ok("POST", f"{API}/orders", {"customer_uuid": uuid, "order": order})

    def charge(token: str) -> dict[str, object]:
        payment = {"amount": "4.00", "token": token, "consume_mode": "sales", "entry_type": "mit"}
        return {"reference_number": "o-1", "payment": {"payment_token": payment}}

    sale = (await raw.ok("POST", f"{API}/open_payments", charge(tokens[0])))["order"]
    sale_uuid = sale["transactions"][0]["uuid"]
    refund = {
        "order": {"reference_number": "o-1"},
        "transaction": {"uuid": sale_uuid},
        "refund": {"amount": "1.00"},
    }
    await raw.ok("POST", f"{API}/orders/refund", refund)
    declined = await raw.ok("POST", f"{API}/open_payments", charge(tokens[1]))  # success:false
    assert declined["order"]["transactions"][-1]["success"] is False

    _, page = await _get(session, f"{dash_emu.base_url}/dashboard/customers/{uuid}")
    assert "Transactions of order" in page
    assert page.count('<th scope="row">Sales</th>') == 2
    assert '<th scope="row">Refund</th>' in page
    assert sale_uuid in page
    assert "424242…4242 visa" in page
    assert "51: Insufficient funds" in page  # payment_data.resp_code: resp_msg
    assert 'class="num">4.00<br>refunded 1.00</td>' in page  # paid and refunded totals
    assert "partial_paid" in page
    assert "4242424242424242" not in page
    assert "4000000000009995" not in page

    token = csrf_of(page)
    number = sale["number"]
    form = {"csrf": token, "next": f"/dashboard/customers/{uuid}"}
    status, location, _ = await _post(
        session,
        f"{dash_emu.base_url}/dashboard/orders/{number}/pay",
        form,
        {"Origin": dash_emu.base_url},
    )
    assert (status, location) == (303, f"/dashboard/customers/{uuid}?done=paid")
    _, page = await _get(session, dash_emu.base_url + location)
    assert "The order was paid." in page
    assert 'class="num">10.00<br>refunded 1.00</td>' in page  # the link paid the other 6.00


@pytest.mark.parametrize(
    "next_page", ["//evil.example/x", "/\t/evil.example", "http://evil.example/", "javascript:x"]
)
async def test_actions_only_lead_back_to_this_dashboard(
    dash_emu: Emulator, raw: RawClient, session: aiohttp.ClientSession, next_page: str
) -> None:
    """A tampered ``next`` field cannot turn an action into a redirect to another site."""
    order = {"reference_number": "o-1", "charge_fee": "1.00", "currency": "HKD"}
    number = (await raw.ok("POST", f"{API}/orders", {"order": order}))["order"]["number"]
    _, page = await _get(session, dash_emu.base_url + "/dashboard/orders")
    form = {"csrf": csrf_of(page), "next": next_page}
    status, location, _ = await _post(
        session,
        f"{dash_emu.base_url}/dashboard/orders/{number}/pay",
        form,
        {"Origin": dash_emu.base_url},
    )
    assert (status, location) == (303, "/?done=paid")
    assert dash_emu.state.orders[number]["correspondence_state"] == "paid"


async def test_webhooks_page_shows_the_webhook_public_key(
    dash_emu: Emulator, session: aiohttp.ClientSession
) -> None:
    """The key a PHP or Node shop verifies the emulator's webhooks with is on the page."""
    _, page = await _get(session, f"{dash_emu.base_url}/dashboard/webhooks")
    pem = dash_emu.webhook_public_key_pem.strip()
    assert pem.splitlines()[1] in page
    assert "BEGIN PUBLIC KEY" in page
    assert "PRIVATE" not in page
    assert "webhook_body=envelope" in page
