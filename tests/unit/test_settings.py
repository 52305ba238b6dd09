"""Settings are read from PROPSYNC_* variables and refused at start when propsync cannot run
with them."""

from __future__ import annotations

import pytest

from propsync.config import ConfigError, Settings


def test_the_request_time_limit_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("PROPSYNC_REQUEST_TIMEOUT_S", "2.5")
    assert Settings.from_env().request_timeout_s == 2.5
    monkeypatch.delenv("PROPSYNC_REQUEST_TIMEOUT_S")
    assert Settings.from_env().request_timeout_s == 10.0


@pytest.mark.parametrize("wrong", ["soon", "0", "-1", "0.01", "nan", "inf", "86400"])
def test_a_request_time_limit_propsync_cannot_run_with_is_refused(monkeypatch, wrong):
    monkeypatch.setenv("PROPSYNC_REQUEST_TIMEOUT_S", wrong)
    with pytest.raises(ConfigError, match="PROPSYNC_REQUEST_TIMEOUT_S"):
        Settings.from_env()
