"""Received batches made in the test, for feeding the capture and health layers without sockets.

A real `dgram.Batch` (the engine's public type), built from payloads and a `RemoteInfo` per
datagram: what a `batch` listener gets, minus the lazy decoding a live socket adds. Every test
that fakes an engine batch makes it here (a subclass via `batch_class` when it needs more).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from udpscope.dgram import Batch, RemoteInfo

B = TypeVar("B", bound=Batch)


def fake_batch(
    payloads: Sequence[bytes],
    *,
    sources: Sequence[str] | str = "127.0.0.1",
    port: int = 1000,
    family: str = "IPv4",
    destination: str | None = None,
    interface: str | None = None,
    ttl: int | None = None,
    ports: Sequence[int] | None = None,
    timestamps: Sequence[float | None] | None = None,
    batch_class: type[B] = Batch,  # type: ignore[assignment]  # the default is a B
) -> B:
    """A batch of `payloads`; datagram i comes from `sources[i]` (or the one source), port
    `ports[i]` (or `port`), to `destination` on `interface` with `ttl`, received at
    `timestamps[i]` (None: no kernel time)."""
    infos = []
    for i, payload in enumerate(payloads):
        source = sources if isinstance(sources, str) else sources[i]
        infos.append(RemoteInfo(source, family, ports[i] if ports else port, len(payload),
                                destination, interface, ttl,
                                timestamps[i] if timestamps else None))
    return batch_class(tuple(payloads), infos)
