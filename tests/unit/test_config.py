"""The settings issue 12 adds are read from the environment and checked at start."""

from __future__ import annotations

import pytest

from propsync.config import ConfigError, Settings


def test_trusted_proxies_are_read_as_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPSYNC_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16 ::1")
    assert Settings.from_env().trusted_proxies == ("10.0.0.5/32", "10.1.0.0/16", "::1/128")


@pytest.mark.parametrize("raw", ["nonsense", "10.0.0.0/33", "10.0.0.1-10.0.0.9"])
def test_a_trusted_proxy_that_is_not_an_address_stops_the_start(
        monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("PROPSYNC_TRUSTED_PROXIES", raw)
    with pytest.raises(ConfigError, match="PROPSYNC_TRUSTED_PROXIES"):
        Settings.from_env()


def test_the_defaults_are_hubspots_private_app_limits() -> None:
    settings = Settings()
    assert (settings.rate_limit_max, settings.rate_limit_interval_ms) == (190, 10_000)
    assert settings.rate_limit_daily is None  # by tier
    assert not settings.secure_cookies and settings.trusted_proxies == ()


@pytest.mark.parametrize(("name", "raw"), [("PROPSYNC_SECURE_COOKIES", "maybe"),
                                           ("PROPSYNC_RATE_LIMIT_MAX", "-1"),
                                           ("PROPSYNC_RATE_LIMIT_DAILY", "lots"),
                                           ("PROPSYNC_RATE_LIMIT_INTERVAL_MS", "5")])
def test_a_bad_security_setting_is_refused_by_name(monkeypatch: pytest.MonkeyPatch,
                                                   name: str, raw: str) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError, match=name):
        Settings.from_env()


def test_secure_cookies_and_limits_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, raw in (("PROPSYNC_SECURE_COOKIES", "true"), ("PROPSYNC_RATE_LIMIT_MAX", "0"),
                      ("PROPSYNC_RATE_LIMIT_DAILY", "5000")):
        monkeypatch.setenv(name, raw)
    settings = Settings.from_env()
    assert settings.secure_cookies and settings.rate_limit_max == 0
    assert settings.rate_limit_daily == 5000
