"""Blocking twin of :mod:`wonder_async` for code that cannot ``await``.

Same constructor, resources, method names, arguments, models and exceptions (the very same
classes)::

    from wonder_sync import WonderClient

    with WonderClient(app_id=..., private_key="key.pem") as wonder:
        customer = wonder.customers.upsert(reference_number="u-42", name="Tai Man", phone="1")
"""

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
from wonder_async import PaymentToken as PaymentToken
from wonder_async import RateLimitError as RateLimitError
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
    "PaymentToken",
    "RateLimitError",
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
