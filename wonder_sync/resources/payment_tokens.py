"""``wonder.payment_tokens``: bind a card through 3-D Secure, check, wait, list, delete.

Blocking twin generated from wonder_async by scripts/gen_sync.py; do not edit.
"""

from __future__ import annotations

import builtins
import time

from wonder_async._errors import APITimeoutError
from wonder_async._models import Card, PaymentToken, ThreeDS
from wonder_async.resources.payment_tokens import (
    _PaymentTokensRequests,
    _required,
    _token,
    tokens_of,
)
from wonder_sync.resources._base import SyncResource
from wonder_sync.resources._manual import ManualPaymentTokens as _ManualPaymentTokens

__all__ = ["PaymentTokens"]


class PaymentTokens(_ManualPaymentTokens, _PaymentTokensRequests, SyncResource):
    """Saved payment methods of a customer (cards bound through 3-D Secure)."""

    __slots__ = ()

    def create(
        self,
        customer_uuid: str,
        *,
        card: Card,
        three_ds: ThreeDS,
        transaction_type: str = "unscheduled_cof",
    ) -> PaymentToken:
        """Bind a card to the customer as a payment token.

        The result's ``state`` is ``success`` (usable now), ``pending`` (send the cardholder to
        ``verify_url``, then :meth:`check` or :meth:`wait`) or ``failed`` (see ``error_code``).
        Not retried after an ambiguous failure, since a repeat could bind the card twice; the
        error then says how to reconcile.

        :param customer_uuid: the customer's ``uuid`` from :meth:`Customers.upsert`.
        :param card: the card; validated (Luhn, expiry) before anything is sent.
        :param three_ds: where the cardholder returns after the 3-D Secure challenge.
        :param transaction_type: how the token will be charged, e.g. ``unscheduled_cof``.
        :returns: the new token; look at its ``state`` (a declined card is ``failed``, not an
            exception).
        :raises ValidationError: before sending, naming the field that breaks a rule.
        """
        request = self._create_request(customer_uuid, card, three_ds, transaction_type)
        return _token(self._client._execute(request))

    def check(
        self, customer_uuid: str, token: str, *, verify_uuid: str | None = None
    ) -> PaymentToken:
        """Return the token's current state (e.g. after the 3-D Secure redirect).

        :param customer_uuid: the token owner's ``uuid``.
        :param token: the token's ``token`` string.
        :param verify_uuid: the ``verify_uuid`` from :meth:`create`, sent when given.
        :returns: the token with its current ``state``.
        :raises NotFoundError: when the token does not exist (or was deleted).
        """
        request = self._check_request(customer_uuid, token, verify_uuid)
        return _token(self._client._execute(request))

    def wait(
        self,
        customer_uuid: str,
        token: PaymentToken,
        *,
        timeout: float = 30.0,
        interval: float = 1.0,
    ) -> PaymentToken:
        """Poll :meth:`check` until the token leaves ``pending``; return its final state.

        :param customer_uuid: the token owner's ``uuid``.
        :param token: the token :meth:`create` returned.
        :param timeout: seconds to wait in all.
        :param interval: seconds between checks.
        :returns: the token once its ``state`` is no longer ``pending``.
        :raises APITimeoutError: when the token is still pending after ``timeout``.
        """
        token_id = _required("token.token", token.token)
        deadline = time.monotonic() + timeout
        current = token
        while current.is_pending:
            if time.monotonic() + interval > deadline:
                raise APITimeoutError(
                    f"payment token still pending after {timeout:g}s; the cardholder has not "
                    f"finished 3-D Secure at its verify_url"
                )
            self._client._sleep(interval)
            current = self.check(customer_uuid, token_id, verify_uuid=token.verify_uuid)
        return current

    def list(
        self, customer_uuid: str, *, token_type: str | None = None
    ) -> builtins.list[PaymentToken]:
        """Return the customer's payment tokens.

        :param customer_uuid: the customer's ``uuid``.
        :param token_type: filter, e.g. ``CreditCard`` or a comma-separated list.
        :returns: the tokens, in the gateway's order.
        :raises ValidationError: for an unknown ``token_type``.
        """
        return tokens_of(self._client._execute(self._list_request(customer_uuid, token_type)))

    def delete(self, customer_uuid: str, token: str) -> None:
        """Delete the customer's payment token for good.

        :param customer_uuid: the token owner's ``uuid``.
        :param token: the token's ``token`` string.
        :raises NotFoundError: when the token does not exist.
        """
        self._client._execute(self._delete_request(customer_uuid, token))
