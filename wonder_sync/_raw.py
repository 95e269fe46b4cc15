"""``wonder.with_raw_response`` of the blocking client: the same :class:`RawResponse`."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from wonder_async._raw import Exchange, RawResponse, describe

if TYPE_CHECKING:
    from ._client import WonderClient

__all__ = ["WithRawResponse", "raw_method"]

R = TypeVar("R")
P = ParamSpec("P")
Res = TypeVar("Res")


def raw_method(
    client: WonderClient,
    make: Callable[[WonderClient], Res],
    func: Callable[Concatenate[Res, P], R],
) -> Callable[P, RawResponse[R]]:
    """``func`` (an unbound resource method) run on a recording copy of ``client``."""

    def call(*args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        exchange = Exchange()
        started = time.monotonic()
        result = func(make(client._recording(exchange)), *args, **kwargs)
        return exchange.response(result, time.monotonic() - started)

    describe(call, func)
    return call


def _client(client: WonderClient) -> WonderClient:
    return client


class CustomersWithRawResponse:
    """``wonder.with_raw_response.customers``: each call returns a :class:`RawResponse`."""

    def __init__(self, client: WonderClient) -> None:
        from .resources.customers import Customers

        self.upsert = raw_method(client, Customers, Customers.upsert)
        self.get = raw_method(client, Customers, Customers.get)
        self.get_by_reference = raw_method(client, Customers, Customers.get_by_reference)
        self.get_by_token = raw_method(client, Customers, Customers.get_by_token)
        self.update = raw_method(client, Customers, Customers.update)


class PaymentTokensWithRawResponse:
    """``wonder.with_raw_response.payment_tokens``: each call returns a :class:`RawResponse`."""

    def __init__(self, client: WonderClient) -> None:
        from .resources.payment_tokens import PaymentTokens

        self.create = raw_method(client, PaymentTokens, PaymentTokens.create)
        self.check = raw_method(client, PaymentTokens, PaymentTokens.check)
        self.list = raw_method(client, PaymentTokens, PaymentTokens.list)
        self.delete = raw_method(client, PaymentTokens, PaymentTokens.delete)


class OrdersWithRawResponse:
    """``wonder.with_raw_response.orders``: each call returns a :class:`RawResponse`."""

    def __init__(self, client: WonderClient) -> None:
        from .resources.orders import Orders

        self.create = raw_method(client, Orders, Orders.create)
        self.get = raw_method(client, Orders, Orders.get)
        self.void = raw_method(client, Orders, Orders.void)
        self.refund = raw_method(client, Orders, Orders.refund)


class PaymentsWithRawResponse:
    """``wonder.with_raw_response.payments``: each call returns a :class:`RawResponse`."""

    def __init__(self, client: WonderClient) -> None:
        from .resources.payments import Payments

        self.create = raw_method(client, Payments, Payments.create)
        self.create_with_order = raw_method(client, Payments, Payments.create_with_order)


class WithRawResponse:
    """``wonder.with_raw_response``: the client's calls, each returning a :class:`RawResponse`.

    Methods that answer with one result are here; iterators (``customers.list``,
    ``orders.list``), bulk methods and ``payment_tokens.wait`` are not (use
    ``wonder.last_request_id`` or the errors' ``request_id`` there).
    """

    def __init__(self, client: WonderClient) -> None:
        from ._client import WonderClient

        self._client = client
        self.echo = raw_method(client, _client, WonderClient.echo)

    @cached_property
    def customers(self) -> CustomersWithRawResponse:
        """``customers`` methods returning a :class:`RawResponse`."""
        return CustomersWithRawResponse(self._client)

    @cached_property
    def payment_tokens(self) -> PaymentTokensWithRawResponse:
        """``payment_tokens`` methods returning a :class:`RawResponse`."""
        return PaymentTokensWithRawResponse(self._client)

    @cached_property
    def orders(self) -> OrdersWithRawResponse:
        """``orders`` methods returning a :class:`RawResponse`."""
        return OrdersWithRawResponse(self._client)

    @cached_property
    def payments(self) -> PaymentsWithRawResponse:
        """``payments`` methods returning a :class:`RawResponse`."""
        return PaymentsWithRawResponse(self._client)
