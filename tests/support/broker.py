"""A stand-in for the message broker, for unit tests of the outbox (integration uses Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class CollectingPublisher:
    """Keeps what would have been published; `fail_after` publishes, it refuses like a broker
    that went down."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.published: list[tuple[str, list[Any]]] = []
        self.fail_after = fail_after

    @contextmanager
    def __call__(self) -> Iterator[Any]:
        def publish(task: str, args: Any) -> None:
            if self.fail_after is not None and len(self.published) >= self.fail_after:
                raise ConnectionRefusedError("broker down")
            self.published.append((task, list(args)))

        yield publish
