"""Reading the Hosts view's forms: the add-host dialog and the run's settings.

Plain functions from typed text to a request or a `FormError` (one message per field), like
`udpscope.tui.forms`; the limits are `udpscope matrix`'s. No Textual or Rich here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from udpscope.addresses import (
    AddressError,
    family_of,
    is_multicast,
    parse_bind_spec,
    parse_float_range,
    parse_int_range,
)
from udpscope.textsafe import safe_text
from udpscope.tui.forms import Collect

__all__ = [
    "LOCAL_HOST",
    "MAX_HOSTS",
    "TEMPLATE_PRESETS",
    "HostFields",
    "HostRequest",
    "MatrixFields",
    "MatrixSettings",
    "local_agent_argv",
    "parse_host",
    "parse_matrix_settings",
]

# ---- hosts (the Hosts view: who hears whom) ------------------------------------------------------

TEMPLATE_PRESETS: tuple[tuple[str, str], ...] = (
    ("ssh", "ssh -T -o BatchMode=yes {host} udpscope agent"),
    ("namespace", "ip netns exec {host} udpscope agent"),
    ("kubectl", "kubectl exec -i {host} -- udpscope agent"),
)
LOCAL_HOST = "local"  # the name the local host gets when none is typed
MAX_HOSTS = 64  # as `udpscope matrix` allows
MATRIX_MAX_COUNT = 100_000
MATRIX_MAX_RATE = 10_000.0
MATRIX_MAX_SECONDS = 3600.0  # what an agent sends for at most (count / rate)


def local_agent_argv() -> tuple[str, ...]:
    """The agent on this machine: this very udpscope, started as a child (no template)."""
    import sys

    return (sys.executable, "-m", "udpscope", "agent")


@dataclass(frozen=True)
class HostFields:
    """The add-host dialog as typed: a name and a template, or this machine (``local``)."""

    name: str = ""
    template: str = ""
    local: bool = False


@dataclass(frozen=True)
class HostRequest:
    """A host to add: its name, the template it was added with ("" for the local host) and
    the argv that starts its agent."""

    name: str
    template: str
    argv: tuple[str, ...]


def parse_host(fields: HostFields, taken: Iterable[str] = ()) -> HostRequest:
    """Validate the add-host dialog; ``taken`` are the names already in the list.

    Raises:
        FormError: with messages for the boxes "name" and "template".
    """
    from udpscope.agent.transport import TemplateError, check_host, command_for, parse_template

    out = Collect()
    name = fields.name.strip() or (LOCAL_HOST if fields.local else "")
    names = set(taken)
    try:
        if not name:
            raise TemplateError("required: what {host} becomes, e.g. h1, user@10.0.0.5, a pod")
        check_host(name)
        if name in names:
            raise TemplateError(f"{safe_text(name, 60)} is in the list already")
        if len(names) >= MAX_HOSTS:
            raise TemplateError(f"at most {MAX_HOSTS} hosts")
    except TemplateError as exc:
        out.fail("name", f"name: {safe_text(str(exc), 200)}")
    words: tuple[str, ...] = ()
    template = "" if fields.local else fields.template.strip()
    if not fields.local:
        try:
            words = parse_template(template)
        except TemplateError as exc:
            out.fail("template", f"template: {safe_text(str(exc), 200)}")
    out.check()
    argv = local_agent_argv() if fields.local else command_for(words, name)
    return HostRequest(name, template, argv)


@dataclass(frozen=True)
class MatrixFields:
    """The Hosts view's settings as typed."""

    group: str = ""
    count: str = "100"
    rate: str = "100"
    ttl: str = "1"
    max_loss: str = "0"


@dataclass(frozen=True)
class MatrixSettings:
    """Validated settings of one run (what `udpscope matrix` takes as flags)."""

    group: str
    port: int
    count: int
    rate: float
    ttl: int
    max_loss: float

    @property
    def endpoint(self) -> str:
        return f"[{self.group}]:{self.port}" if ":" in self.group else f"{self.group}:{self.port}"


def _group_port(text: str) -> tuple[str, int]:
    s = text.strip()
    if not s:
        raise AddressError("group", "required, GROUP:PORT (e.g. 239.1.2.3:5000 or [ff15::1]:5000)")
    address, port = parse_bind_spec(s, what="group") if ":" in s else (None, 0)
    if address is None:
        raise AddressError("group", f"'{safe_text(s, 60)}' needs GROUP:PORT, e.g. 239.1.2.3:5000")
    if family_of(address) is None:
        raise AddressError("group", f"'{safe_text(address, 60)}' is not a group address "
                                    "(an IP literal, e.g. 239.1.2.3)")
    if not is_multicast(address):
        raise AddressError("group", f"{safe_text(address, 60)} is not a multicast address "
                                    "(groups are 224.0.0.0/4 and ff00::/8)")
    if port == 0:
        raise AddressError("group", "the port must be 1-65535")
    return address, port


def parse_matrix_settings(fields: MatrixFields) -> MatrixSettings:
    """Validate the Hosts view's settings (the limits `udpscope matrix` has).

    Raises:
        FormError: with messages for the boxes "group", "count", "rate", "ttl", "max_loss".
    """
    out = Collect()
    group, port = "", 0
    count, rate, ttl, max_loss = 0, 0.0, 1, 0.0
    try:
        group, port = _group_port(fields.group)
    except AddressError as exc:
        out.fail("group", exc)
    try:
        count = parse_int_range(fields.count.strip(), 1, MATRIX_MAX_COUNT, "count")
    except AddressError as exc:
        out.fail("count", exc)
    try:
        rate = parse_float_range(fields.rate, "rate", hi=MATRIX_MAX_RATE)
    except AddressError as exc:
        out.fail("rate", exc)
    try:
        ttl = parse_int_range(fields.ttl.strip(), 1, 255, "TTL")
    except AddressError as exc:
        out.fail("ttl", exc)
    try:
        max_loss = parse_float_range(fields.max_loss, "max loss", lo_inclusive=True, hi=100.0)
    except AddressError as exc:
        out.fail("max_loss", exc)
    if count and rate and count / rate > MATRIX_MAX_SECONDS:
        out.fail("rate", f"rate: {count} probes at {rate:g}/s take {count / rate:.0f} s; an agent "
                         f"sends for at most {MATRIX_MAX_SECONDS:.0f} s")
    out.check()
    return MatrixSettings(group, port, count, rate, ttl, max_loss)
