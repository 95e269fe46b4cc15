"""Client configuration: arguments, environment variables, and refusals of unsafe settings."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from tests.conftest import KeyPair
from wonder_async import ConfigurationError, WonderClient


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WONDER_APP_ID", "WONDER_PRIVATE_KEY", "WONDER_PRIVATE_KEY_FILE",
                 "WONDER_ENVIRONMENT", "WONDER_BASE_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_environment_variables_configure_the_client(
    key_pair: KeyPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WONDER_* variables give app id, key (text or file), environment and base URL."""
    monkeypatch.setenv("WONDER_APP_ID", "app-env")
    monkeypatch.setenv("WONDER_PRIVATE_KEY", key_pair.private_pem)
    client = WonderClient()
    assert (client.app_id, client.base_url) == ("app-env", "https://gateway-stg.wonder.today")
    monkeypatch.delenv("WONDER_PRIVATE_KEY")
    key_file = tmp_path / "k.pem"
    key_file.write_text(key_pair.private_pem)
    monkeypatch.setenv("WONDER_PRIVATE_KEY_FILE", str(key_file))
    monkeypatch.setenv("WONDER_ENVIRONMENT", "production")
    assert WonderClient().base_url == "https://gateway.wonder.today"
    monkeypatch.setenv("WONDER_BASE_URL", "http://127.0.0.1:8080")
    monkeypatch.setenv("WONDER_ENVIRONMENT", "sandbox")
    assert WonderClient().base_url == "http://127.0.0.1:8080"


def test_missing_settings_name_what_to_set(key_pair: KeyPair) -> None:
    """A missing app id or key raises ConfigurationError naming the argument and variable."""
    with pytest.raises(ConfigurationError, match="WONDER_APP_ID"):
        WonderClient(private_key=key_pair.private_pem)
    with pytest.raises(ConfigurationError, match="WONDER_PRIVATE_KEY"):
        WonderClient(app_id="a")
    with pytest.raises(ConfigurationError, match="environment"):
        WonderClient(app_id="a", private_key=key_pair.private_pem, environment="staging")


def test_production_refuses_plain_http(key_pair: KeyPair) -> None:
    """environment='production' with an http:// base URL is refused."""
    with pytest.raises(ConfigurationError, match="https"):
        WonderClient(
            app_id="a",
            private_key=key_pair.private_pem,
            environment="production",
            base_url="http://gateway.example",
        )


def test_disabling_tls_verification_is_not_silent(
    key_pair: KeyPair, caplog: pytest.LogCaptureFixture
) -> None:
    """A custom ssl_context without verification warns and logs; a normal one is quiet."""
    WonderClient(
        app_id="a", private_key=key_pair.private_pem, ssl_context=ssl.create_default_context()
    )
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    with pytest.warns(RuntimeWarning, match="verification"):
        WonderClient(app_id="a", private_key=key_pair.private_pem, ssl_context=insecure)
    assert any("verification" in r.getMessage() for r in caplog.records)


def test_repr_shows_no_key(key_pair: KeyPair) -> None:
    """The client's repr names app and URL only."""
    text = repr(WonderClient(app_id="a", private_key=key_pair.private_pem))
    assert "PRIVATE" not in text
    assert "app_id='a'" in text
