"""Async Python SDK for the Wonder Gateway Customer Management API.

::

    from wonder_async import WonderClient

    async with WonderClient(app_id=..., private_key="key.pem") as wonder:
        customer = await wonder.customers.upsert(
            reference_number="u-42", name="Tai Man", phone="12345678"
        )
"""

from typing import TYPE_CHECKING, Any

# Names load on first use (module __getattr__, PEP 562), so `import wonder_async` costs little
# and a script pays only for what it touches: cryptography when a key is loaded, the models
# and cattrs when a resource is first used, webhooks and the bulk engine when imported.
if TYPE_CHECKING:
    from ._bulk import ChargeResult as ChargeResult
    from ._bulk import CustomerTokens as CustomerTokens
    from ._bulk import TokenCheckResult as TokenCheckResult
    from ._bulk import charge_uuid as charge_uuid
    from ._client import WonderClient as WonderClient
    from ._errors import APIConnectionError as APIConnectionError
    from ._errors import APIStatusError as APIStatusError
    from ._errors import APITimeoutError as APITimeoutError
    from ._errors import AuthenticationError as AuthenticationError
    from ._errors import BadRequestError as BadRequestError
    from ._errors import CardDeclinedError as CardDeclinedError
    from ._errors import ConfigurationError as ConfigurationError
    from ._errors import NotFoundError as NotFoundError
    from ._errors import OutcomeUnknownError as OutcomeUnknownError
    from ._errors import RateLimitError as RateLimitError
    from ._errors import ResponseValidationError as ResponseValidationError
    from ._errors import ServerError as ServerError
    from ._errors import ValidationError as ValidationError
    from ._errors import WebhookVerificationError as WebhookVerificationError
    from ._errors import WonderError as WonderError
    from ._models import BillingAddress as BillingAddress
    from ._models import Card as Card
    from ._models import ConsumeMode as ConsumeMode
    from ._models import CreditCard as CreditCard
    from ._models import Customer as Customer
    from ._models import Order as Order
    from ._models import Payment as Payment
    from ._models import PaymentData as PaymentData
    from ._models import PaymentStatus as PaymentStatus
    from ._models import PaymentToken as PaymentToken
    from ._models import Refund as Refund
    from ._models import ThreeDS as ThreeDS
    from ._models import TokenState as TokenState
    from ._models import Transaction as Transaction
    from ._models import TransactionType as TransactionType
    from ._models import UpsertResult as UpsertResult
    from ._raw import RawResponse as RawResponse
    from .webhooks import WebhookEvent as WebhookEvent
    from .webhooks import WebhookVerifier as WebhookVerifier
    from .webhooks import verify_webhook as verify_webhook

from ._version import __version__ as __version__

#: Where each public name is defined (relative to this package).
_LAZY: dict[str, str] = {
    "ChargeResult": "._bulk",
    "CustomerTokens": "._bulk",
    "TokenCheckResult": "._bulk",
    "charge_uuid": "._bulk",
    "WonderClient": "._client",
    "APIConnectionError": "._errors",
    "APIStatusError": "._errors",
    "APITimeoutError": "._errors",
    "AuthenticationError": "._errors",
    "BadRequestError": "._errors",
    "CardDeclinedError": "._errors",
    "ConfigurationError": "._errors",
    "NotFoundError": "._errors",
    "OutcomeUnknownError": "._errors",
    "RateLimitError": "._errors",
    "ResponseValidationError": "._errors",
    "ServerError": "._errors",
    "ValidationError": "._errors",
    "WebhookVerificationError": "._errors",
    "WonderError": "._errors",
    "BillingAddress": "._models",
    "Card": "._models",
    "ConsumeMode": "._models",
    "CreditCard": "._models",
    "Customer": "._models",
    "Order": "._models",
    "Payment": "._models",
    "PaymentData": "._models",
    "PaymentStatus": "._models",
    "PaymentToken": "._models",
    "Refund": "._models",
    "ThreeDS": "._models",
    "TokenState": "._models",
    "Transaction": "._models",
    "TransactionType": "._models",
    "UpsertResult": "._models",
    "RawResponse": "._raw",
    "WebhookEvent": ".webhooks",
    "WebhookVerifier": ".webhooks",
    "verify_webhook": ".webhooks",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
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
