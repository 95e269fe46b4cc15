"""Orders of the emulator: create, look up, and the payment-link page."""

from __future__ import annotations

import html
import re
import uuid as uuidlib
from typing import Any, Final

from aiohttp import web

from ._common import Reject, bad, base_url_of, text_field
from ._customers import CustomersMixin
from ._webhooks import WebhooksMixin

__all__ = ["PAY_PATH", "OrdersMixin"]

PAY_PATH: Final = "/pay/{number}"


class OrdersMixin(CustomersMixin, WebhooksMixin):
    """Handlers for orders and the payment-link page."""

    async def _create_order(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        order_in = body.get("order")
        if not isinstance(order_in, dict):
            raise bad("order is required")
        ref = text_field(order_in, "reference_number", "order.", required=True)
        fee = text_field(order_in, "charge_fee", "order.", required=True, max_len=32)
        currency = text_field(order_in, "currency", "order.", required=True, max_len=3)
        if not re.fullmatch(r"\d+(\.\d{1,2})?", fee):
            raise bad("order.charge_fee must be an amount like 21.00")
        customer_uuid = body.get("customer_uuid")
        if customer_uuid is not None:
            self._customer_or_404(str(customer_uuid))
        if ref in self.state.order_by_ref:
            raise bad("order.reference_number already exists")
        number = f"{len(self.state.orders) + 1:06d}{uuidlib.uuid4().hex[:8]}"
        order = {
            **{k: v for k, v in order_in.items() if k not in {"charge_fee", "currency"}},
            "number": number,
            "reference_number": ref,
            "charge_fee": fee,
            "currency": currency,
            "customer_uuid": customer_uuid,
            "state": "invoiced",
            "correspondence_state": "unpaid",
        }
        self.state.save_order(order)
        self._notify("order.created", order)
        data: dict[str, Any] = {"order": order}
        if request.query.get("with_payment_link") == "true":
            data["payment_link"] = base_url_of(request) + PAY_PATH.format(number=number)
        return data, 200

    async def _get_order(self, _request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        wanted = body.get("order")
        if not isinstance(wanted, dict):
            raise bad("order is required")
        if not wanted.get("number") and not wanted.get("reference_number"):
            raise bad("order.number or order.reference_number is required")
        number = wanted.get("number") or self.state.order_by_ref.get(
            str(wanted.get("reference_number"))
        )
        order = self.state.orders.get(str(number))
        if order is None:
            raise Reject(404, 404, "order not found")
        return {"order": order}, 200

    async def _pay_page(self, request: web.Request) -> web.Response:
        order = self.state.orders.get(request.match_info["number"])
        if order is None:
            raise web.HTTPNotFound(text="no such order")
        text = html.escape(f"Pay {order['charge_fee']} {order['currency']} for {order['number']}")
        page = f'<p>{text}</p><form method="post"><button type="submit">Pay</button></form>'
        return web.Response(text=page, content_type="text/html")

    async def _pay(self, request: web.Request) -> web.Response:
        if request.match_info["number"] not in self.state.orders:
            raise web.HTTPNotFound(text="no such order")
        await self.pay_order(request.match_info["number"])
        return web.Response(text="Paid.", content_type="text/html")

    async def pay_order(self, number: str) -> None:
        """Mark an order paid, as if its payment link was used, and send ``order.paid``."""
        order = self.state.orders[number]
        if order["correspondence_state"] != "paid":
            order = {**order, "state": "completed", "correspondence_state": "paid"}
            self.state.save_order(order)
            self._notify("order.paid", order)
