"""Async Python SDK for the Wonder Gateway Customer Management API.

::

    from wonder_async import WonderClient

    async with WonderClient(app_id=..., private_key="key.pem") as wonder:
        customer = await wonder.customers.upsert(
            reference_number="u-42", name="Tai Man", phone="12345678"
        )
"""

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
from ._models import PaymentToken as PaymentToken
from ._models import Refund as Refund
from ._models import ThreeDS as ThreeDS
from ._models import TokenState as TokenState
from ._models import Transaction as Transaction
from ._models import TransactionType as TransactionType
from ._models import UpsertResult as UpsertResult
from .webhooks import WebhookEvent as WebhookEvent
from .webhooks import WebhookVerifier as WebhookVerifier
from .webhooks import verify_webhook as verify_webhook

__version__ = "0.1.0"

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
