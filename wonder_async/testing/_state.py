"""The emulator's state: customers, payment tokens, orders and apps, optionally in SQLite.

Everything lives in dicts, so the request handlers never wait on I/O to read. With a
database file every change is also written through and committed (autocommit, WAL) before
the handler answers, so a ``kill -9`` loses nothing acknowledged. Records never hold a full
card number or a CVV: the server masks the number before a token record is built.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Final

__all__ = ["State"]

_TABLES: Final = ("apps", "customers", "tokens", "orders")


class State:
    """All emulator records, keyed as the gateway keys them, with the indexes lookups need.

    :param db: SQLite file to write through to and load from; ``None`` keeps memory only.
    """

    def __init__(self, db: str | Path | None = None) -> None:
        self.apps: dict[str, str] = {}  # app id -> public key PEM
        # Dicts keep insertion order: that is the stable creation order the list endpoint uses.
        self.customers: dict[str, dict[str, Any]] = {}  # uuid -> customer
        self.by_ref: dict[str, str] = {}  # reference_number -> uuid
        self.tokens: dict[str, dict[str, Any]] = {}  # token -> token record
        self.customer_tokens: dict[str, dict[str, None]] = {}  # customer uuid -> ordered tokens
        self.by_verify: dict[str, str] = {}  # verify_uuid -> token
        self.orders: dict[str, dict[str, Any]] = {}  # number -> order
        self.order_by_ref: dict[str, str] = {}
        #: transaction uuid -> order number; a charge's uuid is its ``payment.uuid`` when one
        #: was sent, so this index is also the charge de-duplication table.
        self.txn_order: dict[str, str] = {}
        self._db: sqlite3.Connection | None = None
        if db is not None:
            # isolation_level=None: every statement commits on its own before we answer.
            self._db = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False)
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                # NORMAL in WAL mode survives the death of the process (kill -9), not of the
                # machine; fsync per request would make the emulator the benchmark bottleneck.
                self._db.execute("PRAGMA synchronous=NORMAL")
                for table in _TABLES:
                    self._db.execute(
                        f"CREATE TABLE IF NOT EXISTS {table} (k TEXT PRIMARY KEY, v TEXT NOT NULL)"
                    )
                self._load()
            except BaseException:
                self.close()
                raise

    def _rows(self, table: str) -> list[tuple[str, str]]:
        assert self._db is not None
        # rowid order is insertion order because updates keep the row (ON CONFLICT DO UPDATE).
        return self._db.execute(f"SELECT k, v FROM {table} ORDER BY rowid").fetchall()  # noqa: S608 - constant table

    def _load(self) -> None:
        for k, v in self._rows("apps"):
            self.apps[k] = v
        for _, v in self._rows("customers"):
            self._index_customer(json.loads(v))
        for _, v in self._rows("tokens"):
            self._index_token(json.loads(v))
        for _, v in self._rows("orders"):
            self._index_order(json.loads(v))

    def _write(self, table: str, key: str, value: Any) -> None:
        if self._db is not None:
            text = value if isinstance(value, str) else json.dumps(value)
            self._db.execute(
                f"INSERT INTO {table} (k, v) VALUES (?, ?) "  # noqa: S608 - constant table
                "ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                (key, text),
            )

    def _delete(self, table: str, key: str) -> None:
        if self._db is not None:
            self._db.execute(f"DELETE FROM {table} WHERE k = ?", (key,))  # noqa: S608 - constant table

    def _index_customer(self, customer: dict[str, Any]) -> None:
        self.customers[customer["uuid"]] = customer
        self.by_ref[customer["reference_number"]] = customer["uuid"]

    def _index_token(self, token: dict[str, Any]) -> None:
        self.tokens[token["token"]] = token
        self.customer_tokens.setdefault(token["customer_uuid"], {})[token["token"]] = None
        if token.get("verify_uuid"):
            self.by_verify[token["verify_uuid"]] = token["token"]

    def _index_order(self, order: dict[str, Any]) -> None:
        self.orders[order["number"]] = order
        self.order_by_ref[order["reference_number"]] = order["number"]
        for transaction in order.get("transactions", ()):
            self.txn_order[transaction["uuid"]] = order["number"]

    def save_app(self, app_id: str, public_pem: str) -> None:
        """Register (or replace) an app's public key."""
        self.apps[app_id] = public_pem
        self._write("apps", app_id, public_pem)

    def save_customer(self, customer: dict[str, Any]) -> None:
        """Insert or replace a customer (its ``reference_number`` never changes)."""
        self._index_customer(customer)
        self._write("customers", customer["uuid"], customer)

    def save_token(self, token: dict[str, Any]) -> None:
        """Insert or replace a payment token record (card number already masked)."""
        self._index_token(token)
        self._write("tokens", token["token"], token)

    def delete_token(self, token: str) -> None:
        """Remove a payment token for good."""
        record = self.tokens.pop(token, None)
        if record is not None:
            self.customer_tokens.get(record["customer_uuid"], {}).pop(token, None)
            self.by_verify.pop(record.get("verify_uuid") or "", None)
        self._delete("tokens", token)

    def save_order(self, order: dict[str, Any]) -> None:
        """Insert or replace an order (with its ``transactions``)."""
        self._index_order(order)
        self._write("orders", order["number"], order)

    def reset(self) -> None:
        """Forget every customer, token and order (apps stay registered)."""
        for index in (
            self.customers,
            self.by_ref,
            self.tokens,
            self.customer_tokens,
            self.by_verify,
            self.orders,
            self.order_by_ref,
            self.txn_order,
        ):
            index.clear()
        if self._db is not None:
            for table in _TABLES[1:]:
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - constant table

    def close(self) -> None:
        """Close the database, if any (idempotent)."""
        if self._db is not None:
            self._db.close()
            self._db = None
