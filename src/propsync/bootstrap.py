"""The one composition root: settings → engine (migrated) → app."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from propsync.api.app import create_app
from propsync.api.limits import Limits
from propsync.config import Settings
from propsync.storage.db import build_engine
from propsync.storage.migrate import upgrade


def engine_for(settings: Settings, migrate: bool = True) -> Engine:
    """The engine for ``settings``, with every pending migration applied first."""
    engine = build_engine(settings)
    if migrate:
        upgrade(engine)
    return engine


def app_for(settings: Settings, run_worker: bool = True) -> FastAPI:
    """The app for ``settings``; it runs an embedded sync worker unless told not to."""
    listen = settings.database_url if not settings.is_sqlite else None
    return create_app(engine_for(settings), run_worker=run_worker, listen_url=listen,
                      session_secret=settings.secret_key, limits=limits_for(settings))


def limits_for(settings: Settings) -> Limits:
    """The bounds of every request: the configured time budget, and searches and list pages
    at once up to half the pool, so that the other half always serves everything else."""
    return Limits(timeout_s=settings.request_timeout_s,
                  expensive_reads=max(1, settings.pool_size // 2))
