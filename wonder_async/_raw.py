"""Results with their request: ``wonder.last_request_id`` and ``wonder.with_raw_response``.

Wonder support asks for the ``X-Request-ID`` of a call. Every error carries it
(``exc.request_id``); for a result there are two ways, both shared by the async and the
blocking client:

- ``wonder.last_request_id``: the id of the last request the current task (blocking client:
  the current thread) sent through this client. It lives in a :class:`~contextvars.ContextVar`,
  so concurrent tasks and threads sharing one client never see each other's ids, and the
  frozen models stay exactly what the gateway said.
- ``wonder.with_raw_response.<resource>.<method>(...)``: a :class:`RawResponse` with the HTTP
  status, the response headers, the request id, attempts and elapsed time of the call, and
  :meth:`RawResponse.parse` for the usual result.

Costs on the ordinary path: one ``ContextVar.set`` per call; the raw answer is only recorded
for calls made through ``with_raw_response`` (a per-call copy of the client).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from functools import cached_property
from typing import TYPE_CHECKING, Any, Concatenate, Final, Generic, ParamSpec, TypeVar, final

if TYPE_CHECKING:
    from ._client import WonderClient

__all__ = [
    "Exchange",
    "RawResponse",
    "WithRawResponse",
    "describe",
    "last_noted",
    "last_request_id",
    "note_request_id",
    "raw_method",
    "restore_noted",
]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")
Res = TypeVar("Res")

#: ``(owner, request id)`` of the last request sent in this context. The owner is the state a
#: client shares with its ``with_options`` copies, so two clients used by one task never mix.
_LAST: Final[ContextVar[tuple[object, str] | None]] = ContextVar(
    "wonder_last_request_id", default=None
)

#: The header the gateway may answer with its own request id.
REQUEST_ID_HEADER: Final = "X-Request-ID"


def note_request_id(owner: object, request_id: str) -> None:
    """Remember ``request_id`` as the current context's last request id for ``owner``."""
    _LAST.set((owner, request_id))


def last_request_id(owner: object) -> str | None:
    """The current context's last request id sent for ``owner``, or ``None``."""
    last = _LAST.get()
    return last[1] if last is not None and last[0] is owner else None


def last_noted() -> tuple[object, str] | None:
    """The raw ``(owner, request id)`` of this context (carried across the sync loop thread)."""
    return _LAST.get()


def restore_noted(value: tuple[object, str] | None) -> None:
    """Set this context's last request id to one noted in another context."""
    if value is not None:
        _LAST.set(value)


class Exchange:
    """The last HTTP exchange of one ``with_raw_response`` call, filled in by the pipeline."""

    __slots__ = ("attempts", "exchanges", "headers", "operation", "request_id", "status")

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: Mapping[str, str] = {}
        self.request_id: str | None = None
        self.attempts = 0
        self.exchanges = 0
        self.operation = ""

    def record(
        self,
        status: int,
        headers: Mapping[str, str],
        request_id: str,
        attempts: int,
        operation: str,
    ) -> None:
        """Keep one answered request of the call (the last one wins)."""
        self.status = status
        self.headers = headers
        self.request_id = request_id
        self.attempts = attempts
        self.operation = operation
        self.exchanges += 1

    def response(self, result: T, elapsed: float) -> RawResponse[T]:
        """The :class:`RawResponse` of a call that returned ``result``."""
        if self.status is None or self.request_id is None:  # pragma: no cover - every method sends
            raise RuntimeError("with_raw_response: the call sent no request")
        return RawResponse(
            result,
            status=self.status,
            headers=self.headers,
            request_id=self.request_id,
            attempts=self.attempts,
            requests=self.exchanges,
            elapsed=elapsed,
            operation=self.operation,
        )


@final
class RawResponse(Generic[T]):
    """The raw answer of one SDK call made through ``wonder.with_raw_response``.

    ``status`` and ``headers`` are those of the call's last answered HTTP request (a charge
    may also send look-ups; ``requests`` counts the answered ones), ``request_id`` is the
    ``X-Request-ID`` the SDK sent with it and ``gateway_request_id`` the one the gateway
    answered with, if it sent one. :meth:`parse` returns what the plain call returns.
    """

    __slots__ = (
        "_result",
        "attempts",
        "elapsed",
        "headers",
        "operation",
        "request_id",
        "requests",
        "status",
    )

    def __init__(
        self,
        result: T,
        *,
        status: int,
        headers: Mapping[str, str],
        request_id: str,
        attempts: int,
        requests: int,
        elapsed: float,
        operation: str,
    ) -> None:
        self._result = result
        #: The HTTP status of the last answer, e.g. ``200``.
        self.status = status
        #: The last answer's HTTP headers (case-insensitive look-up).
        self.headers = headers
        #: The ``X-Request-ID`` the SDK sent with the last request: quote it to Wonder support.
        self.request_id = request_id
        #: Requests sent by the pipeline for the last answer (1 unless it was retried).
        self.attempts = attempts
        #: Answered HTTP requests of the whole call (look-ups and polls included).
        self.requests = requests
        #: Seconds the whole call took.
        self.elapsed = elapsed
        #: The SDK operation of the last request, e.g. ``customers.get``.
        self.operation = operation

    @property
    def gateway_request_id(self) -> str | None:
        """The ``X-Request-ID`` header of the gateway's answer, or ``None`` if it sent none."""
        return self.headers.get(REQUEST_ID_HEADER)

    def parse(self) -> T:
        """Return the call's result.

        :returns: what the same call without ``with_raw_response`` returns.
        """
        return self._result

    def __repr__(self) -> str:
        return (
            f"RawResponse(operation={self.operation!r}, status={self.status}, "
            f"request_id={self.request_id!r}, attempts={self.attempts}, "
            f"elapsed={self.elapsed:.3f})"
        )


def raw_method(
    client: WonderClient,
    make: Callable[[WonderClient], Res],
    func: Callable[Concatenate[Res, P], Awaitable[R]],
) -> Callable[P, Awaitable[RawResponse[R]]]:
    """``func`` (an unbound resource method) run on a recording copy of ``client``."""

    async def call(*args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        exchange = Exchange()
        started = time.monotonic()
        result = await func(make(client._recording(exchange)), *args, **kwargs)
        return exchange.response(result, time.monotonic() - started)

    describe(call, func)
    return call


def describe(call: Callable[..., Any], func: Callable[..., Any]) -> None:
    """Give ``call`` the name and signature (``self`` dropped) of the method it wraps."""
    import inspect

    call.__name__ = func.__name__
    call.__qualname__ = func.__qualname__
    call.__doc__ = (
        f"Like ``{func.__qualname__}``, returning a :class:`RawResponse` "
        "whose ``parse()`` gives its result."
    )
    sig = inspect.signature(func)
    returns = sig.return_annotation
    if isinstance(returns, str):  # postponed annotations: keep them text
        returns = f"RawResponse[{returns}]"
    call.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=list(sig.parameters.values())[1:], return_annotation=returns
    )


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
