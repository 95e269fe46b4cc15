"""Customers, their payment tokens and the 3-D Secure challenge pages of the emulator.

Test cards: ``4242424242424242`` binds at once (``state="success"``); ``4000000000000002``
is declined (``state="failed"`` with ``error_code``/``error_msg``); ``4000000000009995`` binds
at once but every charge of it is declined (``payment_data.resp_code`` ``"51"``, "Insufficient
funds");
``4000000000003220`` and
every other Luhn-valid number are ``pending`` until the challenge at ``verify_url``
(``{base_url}/3ds/{verify_uuid}``) is approved or declined: GET shows Approve/Decline forms,
POST ``result=success|failed`` settles the token and answers 303 to the token's
``success_return_url``/``fail_return_url``. A number failing the Luhn check is a 400.
"""

from __future__ import annotations

import html
import uuid as uuidlib
from typing import Any, Final

from aiohttp import web

from .._errors import ValidationError
from .._models import MAX_TOKEN_LENGTH, TOKEN_TYPES, mask_card_number
from . import _rules as rules
from ._common import EmulatorBase, bad, base_url_of, not_found
from ._query import CUSTOMER_FIELDS, parse_query

__all__ = [
    "CHARGE_DECLINED_CARD",
    "DECLINED_CARD",
    "FRICTIONLESS_CARD",
    "THREE_DS_PATH",
    "CustomersMixin",
]

FRICTIONLESS_CARD: Final = "4242424242424242"
DECLINED_CARD: Final = "4000000000000002"
#: Binds at once, but every charge of its token is declined ("Insufficient funds").
CHARGE_DECLINED_CARD: Final = "4000000000009995"
#: Key of a token record (never shown) holding the decline its charges get: (code, message).
CHARGE_DECLINE: Final = "charge_decline"
THREE_DS_PATH: Final = "/3ds/{verify_uuid}"
#: ``error_code`` of a token whose binding failed: the emulator's own (Wonder's iOS SDK has
#: ``E200002``/``E200003``, but as its *local* codes, ErrorMessage.swift:31-37).
CARD_DECLINED: Final = "EMU_CARD_DECLINED"
THREE_DS_FAILED: Final = "EMU_3DS_FAILED"


def _brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"


#: Every key of a Customer object, in the order the gateway documents them.
_CUSTOMER_KEYS: Final = (
    "name",
    "email",
    "dial_code",
    "phone",
    "company_name",
    "reference_number",
    "default_payment_method",
    "uuid",
    "default_payment_token",
)

_CUSTOMER_FIELDS: Final = (
    ("name", 255),
    ("email", 255),
    ("dial_code", 6),
    ("phone", 255),
    ("company_name", 255),
    ("default_payment_method", 255),
    ("default_payment_token", 64),
)


_HIDDEN_TOKEN_KEYS: Final = frozenset({"customer_uuid", "return_urls", CHARGE_DECLINE})


class CustomersMixin(EmulatorBase):
    """Handlers for customers, payment tokens and the 3-D Secure pages."""

    def _customer_view(self, customer: dict[str, Any], request: web.Request) -> dict[str, Any]:
        view = {key: customer.get(key) for key in _CUSTOMER_KEYS}
        default = customer.get("default_payment_token")
        token = self.state.tokens.get(default) if default else None
        view["default_payment_token"] = self._token_view(token, request) if token else None
        return view

    def _customer_or_404(self, uuid: str) -> dict[str, Any]:
        customer = self.state.customers.get(uuid)
        if customer is None:
            raise not_found("customer", uuid)
        return customer

    def _check_customer_fields(
        self, fields: dict[str, Any], prefix: str, *, full: bool, uuid: str | None
    ) -> None:
        rules.customer_fields(fields, prefix, upsert=full)
        token = fields.get("default_payment_token")
        if token and (
            uuid is None or self.state.tokens.get(token, {}).get("customer_uuid") != uuid
        ):
            raise bad(f"{prefix}default_payment_token: is not a token of this customer")

    async def _upsert(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        rules.only_keys(body, ["customer"])
        fields = rules.obj(body, "customer", "customer") or {}
        ref = rules.text(fields, "reference_number", "customer.reference_number", required=True)
        ref = ref or ""
        # No await from here to the save: one event loop, so concurrent upserts of one
        # reference_number cannot both miss the lookup and create two customers.
        uuid = self.state.by_ref.get(ref)
        self._check_customer_fields(fields, "customer.", full=True, uuid=uuid)
        current = self.state.customers.get(uuid) if uuid else None
        customer = (
            dict(current) if current else {"uuid": str(uuidlib.uuid4()), "reference_number": ref}
        )
        for key, _ in _CUSTOMER_FIELDS:
            if key in fields:
                customer[key] = fields[key]
        self.state.save_customer(customer)
        return {"customer": self._customer_view(customer, request)}, 200

    async def _update(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        customer = dict(self._customer_or_404(request.match_info["uuid"]))
        ref = body.get("reference_number")
        if ref is not None and ref != customer["reference_number"]:
            raise bad("reference_number: cannot be changed")
        self._check_customer_fields(body, "", full=False, uuid=customer["uuid"])
        for key, _ in _CUSTOMER_FIELDS:
            # As the Put Customer page says: an empty name/email/phone leaves it unchanged.
            if body.get(key) not in (None, "") or (
                key.startswith("default_") and key in body and body[key] == ""
            ):
                customer[key] = body[key] or None
        self.state.save_customer(customer)
        return {"customer": self._customer_view(customer, request)}, 200

    async def _get_customer(self, request: web.Request, _body: Any) -> tuple[dict[str, Any], int]:
        customer = self._customer_or_404(request.match_info["uuid"])
        return {"customer": self._customer_view(customer, request)}, 200

    async def _get_by_ref(self, request: web.Request, _body: Any) -> tuple[dict[str, Any], int]:
        ref = request.match_info["ref"]
        uuid = self.state.by_ref.get(ref)
        if uuid is None:
            raise not_found("customer", f"no customer has reference_number {ref!r}")
        return {"customer": self._customer_view(self.state.customers[uuid], request)}, 200

    async def _get_by_token(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        rules.only_keys(body, ["token"])
        token = self.state.tokens.get(
            rules.text(body, "token", "token", required=True, max_length=MAX_TOKEN_LENGTH) or ""
        )
        if token is None:
            raise not_found("customer", "no customer has this token")
        customer = self._customer_or_404(token["customer_uuid"])
        return {"customer": self._customer_view(customer, request)}, 200

    async def _list_customers(self, request: web.Request, _body: Any) -> tuple[dict[str, Any], int]:
        query = parse_query(request.query.items(), CUSTOMER_FIELDS, params=["linked_source_type"])
        rules.enum(query.params, "linked_source_type", "linked_source_type", {"User", "Store"},
                   required=False)  # fmt: skip
        views = (self._customer_view(c, request) for c in self.state.customers.values())
        return {"customers": query.apply(views)}, 200

    # --- payment tokens ---------------------------------------------------------------------

    def _token_view(self, token: dict[str, Any], request: web.Request) -> dict[str, Any]:
        view = {k: v for k, v in token.items() if k not in _HIDDEN_TOKEN_KEYS}
        path = token["verify_url"]
        if path and path.startswith("/"):
            # Stored as a path: the URL follows the host the client reached us by, which
            # changes with --port 0 restarts, proxies and container port mappings.
            view["verify_url"] = base_url_of(request) + path
        customer = self.state.customers.get(token["customer_uuid"], {})
        view["default"] = customer.get("default_payment_token") == token["token"]
        return view

    def _token_or_404(self, customer_uuid: str, token: str) -> dict[str, Any]:
        record = self.state.tokens.get(token)
        if record is None or record["customer_uuid"] != customer_uuid:
            raise not_found("payment token")
        return record

    async def _create_token(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        customer = self._customer_or_404(request.match_info["uuid"])
        card = rules.card(body)
        number = card["number"]
        token_id = str(uuidlib.uuid4())
        verify_uuid = str(uuidlib.uuid4())
        record: dict[str, Any] = {
            "token_type": "CreditCard",
            "token": token_id,
            "state": "pending",
            "verify_uuid": verify_uuid,
            "verify_url": None,
            "error_code": None,
            "error_msg": None,
            "credit_card": {
                "number": mask_card_number(number),  # the full number is never stored
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "holder_name": card["holder_name"],
                "brand": _brand(number),
                "billing_currency": "HKD",
            },
            "customer_uuid": customer["uuid"],
            "return_urls": [card["success_return_url"], card["fail_return_url"]],
        }
        if number == FRICTIONLESS_CARD:
            record["state"] = "success"
        elif number == CHARGE_DECLINED_CARD:
            record.update(state="success", **{CHARGE_DECLINE: ["51", "Insufficient funds"]})
        elif number == DECLINED_CARD:
            record.update(
                state="failed", error_code=CARD_DECLINED, error_msg="Card declined by issuer"
            )
        else:
            record["verify_url"] = THREE_DS_PATH.format(verify_uuid=verify_uuid)
        self.state.save_token(record)
        if record["state"] == "success":
            self._maybe_default(customer, token_id)
        return {"payment_token": self._token_view(record, request)}, 200

    def _maybe_default(self, customer: dict[str, Any], token_id: str) -> None:
        current = customer.get("default_payment_token")
        if not current or current not in self.state.tokens:
            self.state.save_customer({**customer, "default_payment_token": token_id})

    async def _check_token(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        rules.only_keys(body, ["payment_token"])
        wanted = rules.obj(body, "payment_token", "payment_token") or {}
        rules.only_keys(wanted, ["token", "verify_uuid"], "payment_token.")
        token_id = rules.text(wanted, "token", "payment_token.token", required=True) or ""
        record = self._token_or_404(request.match_info["uuid"], token_id)
        verify_uuid = rules.text(
            wanted, "verify_uuid", "payment_token.verify_uuid", max_length=MAX_TOKEN_LENGTH
        )
        if verify_uuid is not None and verify_uuid != record["verify_uuid"]:
            raise bad("payment_token.verify_uuid: does not match the token")
        return {"payment_token": self._token_view(record, request)}, 200

    async def _list_tokens(self, request: web.Request, _body: Any) -> tuple[dict[str, Any], int]:
        uuid = self._customer_or_404(request.match_info["uuid"])["uuid"]
        wanted = request.query.get("token_type")
        types = set(wanted.split(",")) if wanted else None
        for part in types or ():
            if part not in TOKEN_TYPES:
                choices = ", ".join(sorted(TOKEN_TYPES))
                raise ValidationError("token_type", "enum", f"must be one of: {choices}")
        if types and "Gateway" in types:
            types.add("CreditCard")
        tokens = [
            self._token_view(t, request)
            for t in map(self.state.tokens.__getitem__, self.state.customer_tokens.get(uuid, ()))
            if types is None or t["token_type"] in types
        ]
        return {"payment_tokens": tokens}, 200

    async def _delete_token(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        customer = self._customer_or_404(request.match_info["uuid"])
        rules.only_keys(body, ["token"])
        token_id = rules.text(body, "token", "token", required=True) or ""
        self._token_or_404(customer["uuid"], token_id)
        self.state.delete_token(token_id)
        if customer.get("default_payment_token") == token_id:
            self.state.save_customer({**customer, "default_payment_token": None})
        return {"success": True}, 200

    # --- 3-D Secure pages -------------------------------------------------------------------

    def _pending_by_verify(self, verify_uuid: str) -> dict[str, Any]:
        token = self.state.by_verify.get(verify_uuid)
        if token is None:
            raise web.HTTPNotFound(text="no such 3-D Secure challenge")
        return self.state.tokens[token]

    async def _challenge_page(self, request: web.Request) -> web.Response:
        token = self._pending_by_verify(request.match_info["verify_uuid"])
        card = token["credit_card"]
        state = html.escape(token["state"])
        page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>3-D Secure (Wonder emulator)</title></head>
<body style="font-family: sans-serif; max-width: 28em; margin: 3em auto">
<h1>3-D Secure</h1>
<p>Card {html.escape(card["number"])} ({html.escape(card["brand"])}), {
            html.escape(card["holder_name"])
        }.</p>
<p>Token state: <b>{state}</b></p>
<form method="post"><input type="hidden" name="result" value="success">
<button type="submit">Approve</button></form>
<form method="post"><input type="hidden" name="result" value="failed">
<button type="submit">Decline</button></form>
</body></html>"""
        return web.Response(text=page, content_type="text/html")

    async def _challenge_answer(self, request: web.Request) -> web.Response:
        token = self._pending_by_verify(request.match_info["verify_uuid"])
        form = await request.post()
        result = form.get("result")
        if result not in {"success", "failed"}:
            raise web.HTTPBadRequest(text="result must be success or failed")
        ok_url, fail_url = token["return_urls"]
        self.settle_challenge(token["verify_uuid"], result)
        raise web.HTTPSeeOther(ok_url if result == "success" else fail_url)

    def settle_challenge(self, verify_uuid: str, result: str) -> dict[str, Any]:
        """Approve (``"success"``) or decline (``"failed"``) a 3-D Secure challenge.

        What the cardholder's buttons on the ``verify_url`` page (and the dashboard's) do: a
        pending token turns ``success`` (and becomes the default if the customer has none) or
        ``failed`` with ``EMU_3DS_FAILED``; a settled token stays as it is.

        :param verify_uuid: the token's ``verify_uuid``, the last part of its ``verify_url``.
        :param result: ``"success"`` to approve, ``"failed"`` to decline.
        :returns: the token record as the emulator stores it.
        :raises KeyError: when no token has this ``verify_uuid``.
        :raises ValueError: when ``result`` is neither ``success`` nor ``failed``.
        """
        if result not in {"success", "failed"}:
            raise ValueError("result must be success or failed")
        token = self.state.tokens[self.state.by_verify[verify_uuid]]
        if token["state"] != "pending":
            return token
        updated = dict(token)
        if result == "success":
            updated.update(state="success", verify_url=None)
        else:
            updated.update(
                state="failed",
                verify_url=None,
                error_code=THREE_DS_FAILED,
                error_msg="3-D Secure verification failed",
            )
        self.state.save_token(updated)
        customer = self.state.customers.get(token["customer_uuid"])
        if result == "success" and customer is not None:
            self._maybe_default(customer, token["token"])
        return updated
