"""A loopback receiver that records each datagram with its arrival time (monotonic)."""

from __future__ import annotations

import socket
import threading
import time


class Receiver:
    """Binds 127.0.0.1:0 and collects (arrival, payload) until ``expect`` arrive or it is closed."""

    def __init__(self, expect: int, timeout: float = 20.0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.expect = expect
        self.got: list[tuple[float, bytes]] = []
        self._deadline = time.monotonic() + timeout
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while len(self.got) < self.expect and time.monotonic() < self._deadline \
                and not self._done.is_set():
            try:
                data = self.sock.recv(70000)
            except TimeoutError:
                continue
            except OSError:
                return
            self.got.append((time.monotonic(), data))

    def wait(self) -> list[tuple[float, bytes]]:
        """Block until ``expect`` datagrams arrived (or the timeout); returns them."""
        self._thread.join(max(0.0, self._deadline - time.monotonic()) + 1)
        return self.got

    @property
    def payloads(self) -> list[bytes]:
        return [p for _, p in self.got]

    def offsets(self) -> list[float]:
        """Arrival times relative to the first datagram."""
        return [t - self.got[0][0] for t, _ in self.got] if self.got else []

    def close(self) -> None:
        self._done.set()
        self._thread.join(2)
        self.sock.close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
