"""Protocol decoders: what a datagram is, in one line and as a tree of fields with byte ranges.

Pure functions over bytes, called lazily (a view decodes only the rows it shows; the capture
ring keeps raw datagrams), never importing a UI. Text in a `Decoded` is raw: sanitise it with
udpscope.textsafe before it reaches a terminal.

    >>> d = decode(payload, src_port, dst_port)
    >>> d.proto, d.summary          # "mdns", "query PTR _googlecast._tcp.local"
    >>> for depth, field in d.walk(): ...   # field.start/field.end: its bytes

`classify` gives only the protocol name (for a `proto:` filter), `decode_as` decodes as a named
protocol, `PROTOCOLS` lists the names, `DecodeCache` memoises both by a row's key for views
that redraw the same rows on every tick.
"""

from .cache import DecodeCache
from .model import Decoded, Field
from .registry import PORT_ONLY, PORTS, PROTOCOLS, classify, decode, decode_as, port_protocol

__all__ = ["PORTS", "PORT_ONLY", "PROTOCOLS", "DecodeCache", "Decoded", "Field", "classify",
           "decode", "decode_as", "port_protocol"]
