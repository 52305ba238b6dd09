"""Settings, read from the environment (``PROPSYNC_*``) and validated once at start."""

from __future__ import annotations

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
            "request_timeout_s": _float_env("PROPSYNC_REQUEST_TIMEOUT_S",
                                            DEFAULT_REQUEST_TIMEOUT_S),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)  # NaN and infinities fail the range check of ``Settings``
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from exc
