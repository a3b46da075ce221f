"""A small EventEmitter with Node's semantics (listener order, `once`, `emit('error')` raising).

Listener lists are immutable tuples replaced on change, so `emit` never copies and a listener
added or removed during an emit does not affect that emit — as in Node.

See docs/dgram.md, "Events".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Self

Listener = Callable[..., Any]


class _Once:
    """Wraps a `once` listener so `off(event, original)` still finds it."""

    __slots__ = ("emitter", "event", "listener", "fired")

    def __init__(self, emitter: EventEmitter, event: str, listener: Listener) -> None:
        self.emitter = emitter
        self.event = event
        self.listener = listener
        self.fired = False

    def __call__(self, *args: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.emitter._remove(self.event, self)
        return self.listener(*args)


class EventEmitter:
    """Node's EventEmitter surface: on/once/off/emit/listener_count/remove_all_listeners."""

    def __init__(self) -> None:
        self._events: dict[str, tuple[Listener, ...]] = {}

    def on(self, event: str, listener: Listener) -> Self:
        """Call `listener` on every `event`, after the listeners added before it.

        Returns:
            The emitter (for chaining).

        Raises:
            DgramTypeError: ERR_INVALID_ARG_TYPE when `listener` is not callable.
        """
        if not callable(listener):
            from .errors import invalid_arg_type

            raise invalid_arg_type("listener", "a callable", listener)
        self._events[event] = self._events.get(event, ()) + (listener,)
        return self

    add_listener = on

    def once(self, event: str, listener: Listener) -> Self:
        """Call `listener` on the next `event` only (`off` with the same function removes it).

        Returns:
            The emitter.

        Raises:
            DgramTypeError: ERR_INVALID_ARG_TYPE when `listener` is not callable.
        """
        if not callable(listener):
            from .errors import invalid_arg_type

            raise invalid_arg_type("listener", "a callable", listener)
        return self.on(event, _Once(self, event, listener))

    def off(self, event: str, listener: Listener) -> Self:
        """Remove the most recently added registration of `listener` for `event`, if any.

        Returns:
            The emitter.
        """
        current = self._events.get(event, ())
        for i in range(len(current) - 1, -1, -1):
            item = current[i]
            if item is listener or (isinstance(item, _Once) and item.listener is listener):
                self._set(event, current[:i] + current[i + 1 :])
                break
        return self

    remove_listener = off

    def _remove(self, event: str, item: Listener) -> None:
        current = self._events.get(event, ())
        for i, candidate in enumerate(current):
            if candidate is item:
                self._set(event, current[:i] + current[i + 1 :])
                return

    def _set(self, event: str, listeners: tuple[Listener, ...]) -> None:
        if listeners:
            self._events[event] = listeners
        else:
            self._events.pop(event, None)

    def emit(self, event: str, *args: Any) -> bool:
        """Call the listeners of `event` now, in the order they were added, with `args`.

        Returns:
            Whether there were any listeners.

        Raises:
            The error itself, for an `error` event nobody listens to (as Node throws); and
            whatever a listener raises (the rest of this emit's listeners are then skipped).
        """
        listeners = self._events.get(event)
        if not listeners:
            if event == "error":
                err = args[0] if args else RuntimeError("Unhandled error.")
                if isinstance(err, BaseException):
                    raise err
                raise RuntimeError(f"Unhandled error. ({err!r})")
            return False
        for listener in listeners:
            listener(*args)
        return True

    @property
    def listener_table(self) -> Mapping[str, tuple[Listener, ...]]:
        """The live event -> listeners table, read-only by contract. A dispatch loop that must
        honour `once`/`off` between items re-reads it per item (cheaper than `listeners()`)."""
        return self._events

    def listener_count(self, event: str) -> int:
        """How many listeners `event` has."""
        return len(self._events.get(event, ()))

    def listeners(self, event: str) -> list[Listener]:
        """A copy of the listeners of `event` (the functions given to `on` / `once`)."""
        return [
            item.listener if isinstance(item, _Once) else item
            for item in self._events.get(event, ())
        ]

    def remove_all_listeners(self, event: str | None = None) -> Self:
        """Remove every listener of `event`, or of all events when it is None; returns the
        emitter."""
        if event is None:
            self._events.clear()
        else:
            self._set(event, ())
        return self

    def event_names(self) -> list[str]:
        """The events that have listeners."""
        return list(self._events)
