"""Settings, read from the environment (``PROPSYNC_*``) and validated once at start."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///propsync.db"
# How long one HTTP request may keep the database busy. Long enough for any search or batch
# of HubSpot's sizes on a healthy database (they take milliseconds to a second); short
# enough that a runaway one cannot hold a connection and a CPU for half a minute.
DEFAULT_REQUEST_TIMEOUT_S = 10.0


class ConfigError(ValueError):
    """A setting has a value propsync cannot run with."""


@dataclass(frozen=True)
class Settings:
    """Everything propsync needs to know about its surroundings."""

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    pool_size: int = 10
    secret_key: str | None = None  # signs the web UI's session cookies
    # Peers (addresses or networks) whose X-Forwarded-For / X-Forwarded-Proto are believed.
    trusted_proxies: tuple[str, ...] = ()
    secure_cookies: bool = False  # mark the session cookie Secure even over plain HTTP
    # API rate limits, as HubSpot's for a private app on a Professional or Enterprise
    # account: 190 requests per token per 10 s; per account per day 625,000
    # (professional) or 1,000,000 (enterprise) unless ``rate_limit_daily`` says otherwise.
    # 0 turns a limit off.
    rate_limit_max: int = 190
    rate_limit_interval_ms: int = 10_000
    rate_limit_daily: int | None = None
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S

    def __post_init__(self) -> None:
        scheme = urlsplit(self.database_url).scheme.split("+")[0]
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ConfigError(
                f"PROPSYNC_DATABASE_URL must start with sqlite:/// or postgresql://, "
                f"not {self.database_url!r}"
            )
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be between 1 and 65535, not {self.port}")
        if self.secret_key is not None and len(self.secret_key) < 16:
            raise ConfigError("PROPSYNC_SECRET_KEY must be at least 16 characters long")
        _check_limits(self)
        object.__setattr__(self, "trusted_proxies", _networks(self.trusted_proxies))
        if not 0.1 <= self.request_timeout_s <= 3600:
            raise ConfigError("PROPSYNC_REQUEST_TIMEOUT_S must be between 0.1 and 3600 "
                              f"seconds, not {self.request_timeout_s:g}")

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the driver propsync uses spelled out."""
        url = self.database_url
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from ``PROPSYNC_*`` variables, with explicit overrides on top."""
        values: dict[str, object] = {
            "database_url": os.environ.get("PROPSYNC_DATABASE_URL", DEFAULT_DATABASE_URL),
            "host": os.environ.get("PROPSYNC_HOST", "127.0.0.1"),
            "port": _int_env("PROPSYNC_PORT", 8000),
            "secret_key": os.environ.get("PROPSYNC_SECRET_KEY") or None,
            "trusted_proxies": tuple(
                p for p in os.environ.get("PROPSYNC_TRUSTED_PROXIES", "").replace(",", " ")
                .split() if p),
            "secure_cookies": _bool_env("PROPSYNC_SECURE_COOKIES", False),
            "rate_limit_max": _int_env("PROPSYNC_RATE_LIMIT_MAX", 190),
            "rate_limit_interval_ms": _int_env("PROPSYNC_RATE_LIMIT_INTERVAL_MS", 10_000),
            "rate_limit_daily": _opt_int_env("PROPSYNC_RATE_LIMIT_DAILY"),
            "request_timeout_s": _float_env("PROPSYNC_REQUEST_TIMEOUT_S",
                                            DEFAULT_REQUEST_TIMEOUT_S),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _networks(raw: tuple[str, ...]) -> tuple[str, ...]:
    """Each trusted proxy as a network (``10.0.0.5`` becomes ``10.0.0.5/32``)."""
    try:
        return tuple(str(ipaddress.ip_network(p.strip(), strict=False)) for p in raw)
    except ValueError as exc:
        raise ConfigError(f"PROPSYNC_TRUSTED_PROXIES must list IP addresses or networks "
                          f"(e.g. 10.0.0.5, 10.1.0.0/16), separated by commas: {exc}") from None


def _check_limits(settings: Settings) -> None:
    if settings.rate_limit_max < 0:
        raise ConfigError("PROPSYNC_RATE_LIMIT_MAX must be 0 (no limit) or more")
    if settings.rate_limit_daily is not None and settings.rate_limit_daily < 0:
        raise ConfigError("PROPSYNC_RATE_LIMIT_DAILY must be 0 (no limit) or more")
    if not 100 <= settings.rate_limit_interval_ms <= 86_400_000:
        raise ConfigError("PROPSYNC_RATE_LIMIT_INTERVAL_MS must be between 100 and 86400000")


def _bool_env(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def _opt_int_env(name: str) -> int | None:
    return _int_env(name, 0) if os.environ.get(name, "").strip() else None


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)  # NaN and infinities fail the range check of ``Settings``
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from exc
