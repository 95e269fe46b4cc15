"""The emulator's state: customers, payment tokens, orders and apps, optionally in SQLite.

Everything lives in dicts for speed; with a database file every change is also written and
committed (WAL) before the handler answers, so a ``kill -9`` loses nothing acknowledged.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

__all__ = ["State"]

_TABLES = ("apps", "customers", "tokens", "orders")


class State:
    """All emulator records, keyed as the gateway keys them."""

    def __init__(self, db: str | Path | None = None) -> None:
        self.apps: dict[str, str] = {}  # app id -> public key PEM
        self.customers: dict[str, dict[str, Any]] = {}  # uuid -> customer
        self.by_ref: dict[str, str] = {}  # reference_number -> uuid
        self.tokens: dict[str, dict[str, Any]] = {}  # token -> token record
        self.orders: dict[str, dict[str, Any]] = {}  # number -> order
        self.order_by_ref: dict[str, str] = {}
        self._db: sqlite3.Connection | None = None
        if db is not None:
            self._db = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # survives process death, not power loss
            for table in _TABLES:
                self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} (k TEXT PRIMARY KEY, v TEXT)")
            self._load()

    def _load(self) -> None:
        assert self._db is not None
        for k, v in self._db.execute("SELECT k, v FROM apps"):
            self.apps[k] = v
        for k, v in self._db.execute("SELECT k, v FROM customers"):
            self.customers[k] = json.loads(v)
            self.by_ref[self.customers[k]["reference_number"]] = k
        for k, v in self._db.execute("SELECT k, v FROM tokens"):
            self.tokens[k] = json.loads(v)
        for k, v in self._db.execute("SELECT k, v FROM orders"):
            self.orders[k] = json.loads(v)
            self.order_by_ref[self.orders[k]["reference_number"]] = k

    def _write(self, table: str, key: str, value: Any) -> None:
        if self._db is not None:
            text = value if isinstance(value, str) else json.dumps(value)
            self._db.execute(f"INSERT OR REPLACE INTO {table} (k, v) VALUES (?, ?)", (key, text))  # noqa: S608 - table names are constants

    def _delete(self, table: str, key: str) -> None:
        if self._db is not None:
            self._db.execute(f"DELETE FROM {table} WHERE k = ?", (key,))  # noqa: S608 - constant table

    def save_app(self, app_id: str, public_pem: str) -> None:
        """Register (or replace) an app's public key."""
        self.apps[app_id] = public_pem
        self._write("apps", app_id, public_pem)

    def save_customer(self, customer: dict[str, Any]) -> None:
        """Insert or replace a customer."""
        self.customers[customer["uuid"]] = customer
        self.by_ref[customer["reference_number"]] = customer["uuid"]
        self._write("customers", customer["uuid"], customer)

    def save_token(self, token: dict[str, Any]) -> None:
        """Insert or replace a payment token record (card number already masked)."""
        self.tokens[token["token"]] = token
        self._write("tokens", token["token"], token)

    def delete_token(self, token: str) -> None:
        """Remove a payment token for good."""
        self.tokens.pop(token, None)
        self._delete("tokens", token)

    def save_order(self, order: dict[str, Any]) -> None:
        """Insert or replace an order."""
        self.orders[order["number"]] = order
        self.order_by_ref[order["reference_number"]] = order["number"]
        self._write("orders", order["number"], order)

    def reset(self) -> None:
        """Forget every customer, token and order (apps stay registered)."""
        self.customers.clear()
        self.by_ref.clear()
        self.tokens.clear()
        self.orders.clear()
        self.order_by_ref.clear()
        if self._db is not None:
            for table in _TABLES[1:]:
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - constant table

    def close(self) -> None:
        """Close the database, if any."""
        if self._db is not None:
            self._db.close()
            self._db = None
