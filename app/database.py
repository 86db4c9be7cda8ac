"""Engine tuning per backend."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _configure_postgresql(engine)


def _configure_postgresql(engine: Engine) -> None:
    """End a dead worker's database session within seconds.

    A session waiting on a lock never reads its socket, so without this a worker killed
    mid-transaction would keep its row locks until the lock it waits for is freed.
    """

    @event.listens_for(engine, "connect")
    def _client_check(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection.info.server_version >= 140000:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET client_connection_check_interval = '2s'")
            dbapi_connection.commit()


def _configure_sqlite(engine: Engine) -> None:
    """Let web, relay, worker and beat share one SQLite file in development.

    WAL lets readers run beside the writer; the busy timeout makes a writer wait for the
    lock instead of failing at once.
    """

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
