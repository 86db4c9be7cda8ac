"""Engine tuning per backend."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

# A pooled connection back in use within this many seconds is used without asking the
# server first whether it is still there.
PING_AFTER_IDLE_SECONDS = 1.0


def configure_engine(engine: Engine) -> None:
    _ping_after_idle(engine)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _configure_postgresql(engine)


def _ping_after_idle(engine: Engine) -> None:
    """A connection that sat idle in the pool is checked before use, so a database restart
    costs no request; one returned moments ago is not. `pool_pre_ping` pings at every
    checkout, and a lead's task checks a connection out three times within milliseconds: a
    round trip each (the inquiry's request makes three in all, one of them the ping). A
    connection that dies within the second after its last use fails the statement it runs,
    as one dying between the ping and the statement always could; SQLAlchemy then drops the
    pool's connections and the task's retry or the patient's resubmission goes through.
    """

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _note_last_use(_dbapi_connection: Any, record: Any) -> None:
        record.info["last_used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info["last_used"] < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool replaces the connection and checks out a fresh one.
            raise DisconnectionError(str(error)) from error


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
