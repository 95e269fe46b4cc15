"""Models: frozen, slotted attrs classes with no serialization code in them.

Request-side classes (:class:`Card`, :class:`ThreeDS`, :class:`BillingAddress`,
:class:`CustomerFields`) validate on construction and raise :class:`ValidationError` naming the
field and the rule, so bad input never reaches the wire. Response-side classes
(:class:`Customer`, :class:`PaymentToken`, :class:`Order`, ...) are lenient: every field is
optional, values that may grow (``state``, ``token_type``) are plain strings, and unknown
fields are kept in ``extra``. Reprs never show a full card number or a CVV.

Here by area: :mod:`.customers` (customers and payment tokens), :mod:`.orders` (orders,
transactions, payments, refunds) and :mod:`.validation` (the limits and ``check_*`` rules);
every name is importable from ``wonder_async._models``.
"""

from __future__ import annotations

from .._redact import scrubbed_repr
from .customers import BillingAddress as BillingAddress
from .customers import Card as Card
from .customers import CreditCard as CreditCard
from .customers import Customer as Customer
from .customers import CustomerFields as CustomerFields
from .customers import PaymentToken as PaymentToken
from .customers import ThreeDS as ThreeDS
from .customers import TokenState as TokenState
from .customers import UpsertResult as UpsertResult
from .orders import CONSUME_MODES as CONSUME_MODES
from .orders import ConsumeMode as ConsumeMode
from .orders import Order as Order
from .orders import Payment as Payment
from .orders import PaymentData as PaymentData
from .orders import PaymentStatus as PaymentStatus
from .orders import Refund as Refund
from .orders import Transaction as Transaction
from .orders import TransactionType as TransactionType
from .validation import CURRENCIES as CURRENCIES
from .validation import DEFAULT_PAYMENT_METHODS as DEFAULT_PAYMENT_METHODS
from .validation import ENTRY_TYPES as ENTRY_TYPES
from .validation import MAX_DIAL_CODE_LENGTH as MAX_DIAL_CODE_LENGTH
from .validation import MAX_NOTE_LENGTH as MAX_NOTE_LENGTH
from .validation import MAX_TEXT_LENGTH as MAX_TEXT_LENGTH
from .validation import MAX_TOKEN_LENGTH as MAX_TOKEN_LENGTH
from .validation import MAX_URL_LENGTH as MAX_URL_LENGTH
from .validation import TOKEN_TYPES as TOKEN_TYPES
from .validation import TRANSACTION_TYPES as TRANSACTION_TYPES
from .validation import check_card_number as check_card_number
from .validation import check_email as check_email
from .validation import check_enum as check_enum
from .validation import check_text as check_text
from .validation import mask_card_number as mask_card_number

__all__ = [
    "CONSUME_MODES",
    "DEFAULT_PAYMENT_METHODS",
    "TOKEN_TYPES",
    "TRANSACTION_TYPES",
    "BillingAddress",
    "Card",
    "ConsumeMode",
    "CreditCard",
    "Customer",
    "CustomerFields",
    "Order",
    "Payment",
    "PaymentData",
    "PaymentStatus",
    "PaymentToken",
    "Refund",
    "ThreeDS",
    "TokenState",
    "Transaction",
    "TransactionType",
    "UpsertResult",
    "mask_card_number",
]

# What the gateway sent may echo card data into any text field: reprs show it scrubbed.
for _answer_model in (
    CreditCard,
    PaymentData,
    PaymentToken,
    Customer,
    Transaction,
    Order,
    Payment,
    Refund,
    UpsertResult,
    BillingAddress,
):
    scrubbed_repr(_answer_model)
del _answer_model
