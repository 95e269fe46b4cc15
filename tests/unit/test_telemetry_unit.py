"""Telemetry naming rules that need no network: operations and path templates."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from wonder_async import APIConnectionError, APITimeoutError, RateLimitError
from wonder_async._telemetry import retry_reason, url_template
from wonder_async._wire import Paths, path_segment

PACKAGE = Path(__file__).resolve().parents[2] / "wonder_async"


def test_every_request_the_sdk_builds_names_its_operation() -> None:
    """A span, metric or log record never says just "request": each builder sets operation."""
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            if name in ("Request", "Request.json") and not any(
                k.arg == "operation" and isinstance(k.value, (ast.Constant, ast.Name))
                for k in node.keywords
            ):
                missing.append(f"{path.name}:{node.lineno}")
    assert missing == []


@pytest.mark.parametrize(
    ("uri", "template"),
    [
        (Paths.CUSTOMERS + "?page=2&page_size=10", Paths.CUSTOMERS),
        (Paths.CUSTOMER.format(uuid="0b6f6a1e-1"), Paths.CUSTOMER),
        (Paths.CUSTOMER_BY_REF.format(ref=path_segment("a/b c")), Paths.CUSTOMER_BY_REF),
        (Paths.CUSTOMER_BY_TOKEN, Paths.CUSTOMER_BY_TOKEN),
        (Paths.PAYMENT_TOKEN_CHECK.format(uuid="u-1"), Paths.PAYMENT_TOKEN_CHECK),
        (Paths.PAYMENT_TOKENS.format(uuid="u-1") + "?type=CreditCard", Paths.PAYMENT_TOKENS),
        ("/somewhere/else/42", None),
    ],
)
def test_url_template_drops_ids_and_query(uri: str, template: str | None) -> None:
    """url.template is the path template: ids and query strings never reach attributes."""
    assert url_template(uri) == template


def test_retry_reasons_are_short_and_low_cardinality() -> None:
    assert retry_reason(RateLimitError("slow down", status=429)) == "http_429"
    assert retry_reason(APITimeoutError("late")) == "timeout"
    assert retry_reason(APIConnectionError("reset")) == "connection_error"
