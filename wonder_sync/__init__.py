"""Blocking twin of :mod:`wonder_async` for code that cannot ``await``.

Same constructor, resources, method names, arguments, models and exceptions (the very same
classes)::

    from wonder_sync import WonderClient

    with WonderClient(app_id=..., private_key="key.pem") as wonder:
        customer = wonder.customers.upsert(reference_number="u-42", name="Tai Man", phone="1")
"""

from typing import TYPE_CHECKING, Any

from wonder_async._version import __version__ as __version__

# As in wonder_async, names load on first use (PEP 562 module __getattr__): the blocking
# client's anyio loop thread, cryptography and the models load when they are first needed.
if TYPE_CHECKING:
    from wonder_async import APIConnectionError as APIConnectionError
    from wonder_async import APIStatusError as APIStatusError
    from wonder_async import APITimeoutError as APITimeoutError
    from wonder_async import AuthenticationError as AuthenticationError
    from wonder_async import BadRequestError as BadRequestError
    from wonder_async import BillingAddress as BillingAddress
    from wonder_async import Card as Card
    from wonder_async import CardDeclinedError as CardDeclinedError
    from wonder_async import ChargeResult as ChargeResult
    from wonder_async import ConfigurationError as ConfigurationError
    from wonder_async import ConsumeMode as ConsumeMode
    from wonder_async import CreditCard as CreditCard
    from wonder_async import Customer as Customer
    from wonder_async import CustomerTokens as CustomerTokens
    from wonder_async import NotFoundError as NotFoundError
    from wonder_async import Order as Order
    from wonder_async import OutcomeUnknownError as OutcomeUnknownError
    from wonder_async import Payment as Payment
    from wonder_async import PaymentData as PaymentData
    from wonder_async import PaymentStatus as PaymentStatus
    from wonder_async import PaymentToken as PaymentToken
    from wonder_async import RateLimitError as RateLimitError
    from wonder_async import RawResponse as RawResponse
    from wonder_async import Refund as Refund
    from wonder_async import ResponseValidationError as ResponseValidationError
    from wonder_async import ServerError as ServerError
    from wonder_async import ThreeDS as ThreeDS
    from wonder_async import TokenCheckResult as TokenCheckResult
    from wonder_async import TokenState as TokenState
    from wonder_async import Transaction as Transaction
    from wonder_async import TransactionType as TransactionType
    from wonder_async import UpsertResult as UpsertResult
    from wonder_async import ValidationError as ValidationError
    from wonder_async import WebhookVerificationError as WebhookVerificationError
    from wonder_async import WonderError as WonderError
    from wonder_async import charge_uuid as charge_uuid

    from ._client import WonderClient as WonderClient
    from .webhooks import WebhookEvent as WebhookEvent
    from .webhooks import WebhookVerifier as WebhookVerifier
    from .webhooks import verify_webhook as verify_webhook

#: Where each public name is defined: models and errors are wonder_async's own objects.
_LAZY: dict[str, str] = {
    "APIConnectionError": "wonder_async",
    "APIStatusError": "wonder_async",
    "APITimeoutError": "wonder_async",
    "AuthenticationError": "wonder_async",
    "BadRequestError": "wonder_async",
    "BillingAddress": "wonder_async",
    "Card": "wonder_async",
    "CardDeclinedError": "wonder_async",
    "ChargeResult": "wonder_async",
    "ConfigurationError": "wonder_async",
    "ConsumeMode": "wonder_async",
    "CreditCard": "wonder_async",
    "Customer": "wonder_async",
    "CustomerTokens": "wonder_async",
    "NotFoundError": "wonder_async",
    "Order": "wonder_async",
    "OutcomeUnknownError": "wonder_async",
    "Payment": "wonder_async",
    "PaymentData": "wonder_async",
    "PaymentStatus": "wonder_async",
    "PaymentToken": "wonder_async",
    "RateLimitError": "wonder_async",
    "ResponseValidationError": "wonder_async",
    "RawResponse": "wonder_async",
    "Refund": "wonder_async",
    "ServerError": "wonder_async",
    "ThreeDS": "wonder_async",
    "TokenCheckResult": "wonder_async",
    "TokenState": "wonder_async",
    "Transaction": "wonder_async",
    "TransactionType": "wonder_async",
    "UpsertResult": "wonder_async",
    "ValidationError": "wonder_async",
    "WebhookVerificationError": "wonder_async",
    "WonderError": "wonder_async",
    "charge_uuid": "wonder_async",
    "WonderClient": "wonder_sync._client",
    "WebhookEvent": "wonder_sync.webhooks",
    "WebhookVerifier": "wonder_sync.webhooks",
    "verify_webhook": "wonder_sync.webhooks",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value  # the next look-up is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BillingAddress",
    "Card",
    "CardDeclinedError",
    "ChargeResult",
    "ConfigurationError",
    "ConsumeMode",
    "CreditCard",
    "Customer",
    "CustomerTokens",
    "NotFoundError",
    "Order",
    "OutcomeUnknownError",
    "Payment",
    "PaymentData",
    "PaymentStatus",
    "PaymentToken",
    "RateLimitError",
    "RawResponse",
    "Refund",
    "ResponseValidationError",
    "ServerError",
    "ThreeDS",
    "TokenCheckResult",
    "TokenState",
    "Transaction",
    "TransactionType",
    "UpsertResult",
    "ValidationError",
    "WebhookEvent",
    "WebhookVerificationError",
    "WebhookVerifier",
    "WonderClient",
    "WonderError",
    "charge_uuid",
    "verify_webhook",
]
