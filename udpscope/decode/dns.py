"""DNS, mDNS (with DNS-SD service names) and LLMNR: one wire format, three ports.

dnspython does the hard parts (name compression with its loop and pointer checks, every record
type's RDATA); this module walks the sections itself with dnspython's wire parser so each
question and record keeps its byte range, masks the mDNS top bit of the class (unicast-response
in questions, cache-flush in answers) before dnspython sees it, and reads DNS-SD names
(`Instance._service._tcp.local`) into their parts.
"""

from __future__ import annotations

import dns.exception
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.wire

from .model import DecodeError, Tree, Truncated

__all__ = ["decode_dns", "decode_llmnr", "decode_mdns", "looks_like_dns", "name_text"]

MAX_SUMMARY_ITEMS = 2
_SECTIONS = ("Answers", "Authority", "Additional")


def name_text(name: dns.name.Name) -> str:
    """A name as people read it: labels as UTF-8 (DNS-SD instance names are), no final dot."""
    labels = [label for label in name.labels if label]
    if not labels:
        return "."
    return ".".join(label.decode("utf-8", "surrogateescape").replace(".", "\\.")
                    for label in labels)


def _type_text(rdtype: int) -> str:
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))


def _class_text(rdclass: int) -> str:
    return dns.rdataclass.to_text(dns.rdataclass.RdataClass.make(rdclass))


def _dnssd(name: dns.name.Name) -> tuple[str | None, str, str] | None:
    """(instance or None, service, domain) when `name` is a DNS-SD name, else None."""
    labels = [label for label in name.labels if label]
    for i in range(len(labels) - 1):
        if labels[i].startswith(b"_") and labels[i + 1] in (b"_tcp", b"_udp"):
            instance = None
            if i > 0:
                instance = ".".join(x.decode("utf-8", "surrogateescape") for x in labels[:i])
            service = f"{labels[i].decode('ascii', 'replace')}.{labels[i + 1].decode()}"
            domain = ".".join(x.decode("utf-8", "surrogateescape") for x in labels[i + 2:])
            return instance, service, domain or "."
    return None


def _rdata_text(rdtype: int, rdata: dns.rdata.Rdata) -> str:
    target = getattr(rdata, "target", None)
    if rdtype in (dns.rdatatype.PTR, dns.rdatatype.CNAME, dns.rdatatype.NS,
                  dns.rdatatype.DNAME) and isinstance(target, dns.name.Name):
        return name_text(target)
    if rdtype == dns.rdatatype.SRV and isinstance(target, dns.name.Name):
        r = rdata
        return (f"{name_text(target)}:{getattr(r, 'port', 0)} "
                f"(priority {getattr(r, 'priority', 0)}, weight {getattr(r, 'weight', 0)})")
    if rdtype == dns.rdatatype.TXT:
        strings = getattr(rdata, "strings", ())
        return " ".join(s.decode("utf-8", "surrogateescape") for s in strings) or "(empty)"
    try:
        return str(rdata.to_text())
    except Exception:  # an odd record type dnspython cannot print: show its bytes
        return rdata.to_digestable().hex()


class _Walk:
    """Walks one message's sections into the tree, collecting what the summary needs."""

    def __init__(self, data: bytes, tree: Tree, mdns: bool) -> None:
        self.data = data
        self.tree = tree
        self.mdns = mdns
        self.parser = dns.wire.Parser(data)
        self.questions: list[str] = []
        self.answers: list[str] = []

    def _name(self, what: str) -> tuple[dns.name.Name, int, int]:
        start = self.parser.current
        try:
            name = dns.name.from_wire_parser(self.parser)
        except dns.exception.FormError:
            raise Truncated(f"truncated {what} name at offset {start}") from None
        except dns.exception.DNSException as e:
            raise DecodeError(f"bad {what} name at offset {start}: {type(e).__name__}") from None
        return name, start, self.parser.current

    def _u16s(self, n: int, what: str) -> tuple[int, ...]:
        if self.parser.remaining() < 2 * n:
            raise Truncated(f"truncated {what} at offset {self.parser.current}")
        return tuple(self.parser.get_struct("!" + "H" * n))

    def _name_fields(self, name: dns.name.Name, start: int, end: int) -> None:
        self.tree.add("Name", name_text(name), start, end)
        sd = _dnssd(name)
        if sd is not None:
            instance, service, domain = sd
            if instance is not None:
                self.tree.add("DNS-SD instance", instance, start, end)
            self.tree.add("DNS-SD service", service, start, end)
            self.tree.add("DNS-SD domain", domain, start, end)

    def question(self, index: int) -> None:
        start = self.parser.current
        with self.tree.node(f"Question {index + 1}", "", start) as scope:
            name, n0, n1 = self._name("question")
            self._name_fields(name, n0, n1)
            rdtype, rdclass = self._u16s(2, "question type/class")
            type_text = _type_text(rdtype)
            self.tree.add("Type", type_text, n1, n1 + 2)
            unicast = self.mdns and bool(rdclass & 0x8000)
            cls = rdclass & 0x7FFF if self.mdns else rdclass
            self.tree.add("Class", _class_text(cls), n1 + 2, n1 + 4)
            if self.mdns:
                self.tree.add("Unicast response (QU)", "yes" if unicast else "no", n1 + 2, n1 + 4)
            text = f"{type_text} {name_text(name)}" + (" (QU)" if unicast else "")
            scope.value = text
            self.questions.append(text)

    def record(self, section: str, index: int) -> None:
        start = self.parser.current
        label = "Answer" if section == "Answers" else section
        with self.tree.node(f"{label} {index + 1}", "", start) as scope:
            name, n0, n1 = self._name("record")
            self._name_fields(name, n0, n1)
            rdtype, rdclass = self._u16s(2, "record type/class")
            (ttl,) = self.parser.get_struct("!I") if self.parser.remaining() >= 4 else (None,)
            if ttl is None:
                raise Truncated(f"truncated record TTL at offset {self.parser.current}")
            (rdlen,) = self._u16s(1, "record length")
            type_text = _type_text(rdtype)
            self.tree.add("Type", type_text, n1, n1 + 2)
            flush = self.mdns and rdtype != dns.rdatatype.OPT and bool(rdclass & 0x8000)
            cls = rdclass & 0x7FFF if self.mdns and rdtype != dns.rdatatype.OPT else rdclass
            if rdtype == dns.rdatatype.OPT:
                self.tree.add("UDP payload size", rdclass, n1 + 2, n1 + 4)
            else:
                self.tree.add("Class", _class_text(cls), n1 + 2, n1 + 4)
            if self.mdns and rdtype != dns.rdatatype.OPT:
                self.tree.add("Cache flush", "yes" if flush else "no", n1 + 2, n1 + 4)
            self.tree.add("TTL", ttl, n1 + 4, n1 + 8)
            self.tree.add("Data length", rdlen, n1 + 8, n1 + 10)
            r0 = self.parser.current
            if rdlen > self.parser.remaining():
                raise Truncated(f"truncated record data at offset {r0}: {rdlen} bytes announced, "
                                f"{self.parser.remaining()} left")
            try:
                with self.parser.restrict_to(rdlen):
                    rdata = dns.rdata.from_wire_parser(dns.rdataclass.RdataClass.make(cls),
                                                       dns.rdatatype.RdataType.make(rdtype),
                                                       self.parser)
            except dns.exception.DNSException as e:
                self.parser.seek(r0 + rdlen)
                self.tree.add("Data", self.data[r0:r0 + rdlen].hex(), r0, r0 + rdlen)
                raise DecodeError(f"bad {type_text} record data at offset {r0}: "
                                  f"{type(e).__name__}") from None
            text = _rdata_text(rdtype, rdata)
            self.tree.add("Data", text, r0, r0 + rdlen)
            if rdtype == dns.rdatatype.TXT and _dnssd(name) is not None:
                for s in getattr(rdata, "strings", ()):
                    self.tree.add("TXT entry", s.decode("utf-8", "surrogateescape"), r0, r0 + rdlen)
            scope.value = f"{type_text} {name_text(name)} -> {text}"
            if section == "Answers":
                self.answers.append(scope.value)


def _summary_items(items: list[str], total: int) -> str:
    shown = ", ".join(items[:MAX_SUMMARY_ITEMS])
    more = total - min(len(items), MAX_SUMMARY_ITEMS)
    return shown + (f" (+{more} more)" if more > 0 else "")


def _decode(data: bytes, tree: Tree, mdns: bool, llmnr: bool) -> None:
    if len(data) < 12:
        raise Truncated(f"truncated header: {len(data)} of 12 bytes")
    walk = _Walk(data, tree, mdns)
    ident, flags, qd, an, ns, ar = walk._u16s(6, "header")
    qr = bool(flags & 0x8000)
    opcode = (flags >> 11) & 0xF
    rcode = flags & 0xF
    kind = "response" if qr else "query"
    tree.add("Transaction ID", f"0x{ident:04x}", 0, 2)
    with tree.node("Flags", f"0x{flags:04x}", 2, end=4):
        tree.add("Response", "yes" if qr else "no", 2, 3)
        tree.add("Opcode", dns.opcode.to_text(dns.opcode.Opcode.make(opcode)) if opcode in (0, 1, 2, 4, 5) else opcode,
                 2, 3)
        if llmnr:
            tree.add("Conflict", "yes" if flags & 0x0400 else "no", 2, 3)
            tree.add("Truncated", "yes" if flags & 0x0200 else "no", 2, 3)
            tree.add("Tentative", "yes" if flags & 0x0100 else "no", 2, 3)
        else:
            tree.add("Authoritative", "yes" if flags & 0x0400 else "no", 2, 3)
            tree.add("Truncated", "yes" if flags & 0x0200 else "no", 2, 3)
            tree.add("Recursion desired", "yes" if flags & 0x0100 else "no", 2, 3)
            tree.add("Recursion available", "yes" if flags & 0x0080 else "no", 3, 4)
        tree.add("Reply code", dns.rcode.to_text(dns.rcode.Rcode.make(rcode)) if rcode <= 10 else rcode, 3, 4)
    tree.add("Questions", qd, 4, 6)
    tree.add("Answers", an, 6, 8)
    tree.add("Authority", ns, 8, 10)
    tree.add("Additional", ar, 10, 12)
    head = kind if rcode == 0 else f"{kind} {dns.rcode.to_text(dns.rcode.Rcode.make(rcode)) if rcode <= 10 else rcode}"
    tree.summary = head
    try:
        for i in range(qd):
            walk.question(i)
        for section, count in zip(_SECTIONS, (an, ns, ar), strict=True):
            for i in range(count):
                walk.record(section, i)
        if walk.parser.remaining():
            at = walk.parser.current
            tree.add("Trailing bytes", walk.parser.remaining(), at, len(data))
            raise DecodeError(f"{len(data) - at} bytes after the last record")
    finally:
        if qr and walk.answers:
            tree.summary = f"{head} {_summary_items(walk.answers, an)}"
        elif walk.questions:
            tree.summary = f"{head} {_summary_items(walk.questions, qd)}"
        elif not qr and not qd and ns:
            tree.summary = f"{head} (authority only: probe)" if mdns else head
        elif not qr and not qd:
            tree.summary = f"{head} (no questions)"


def decode_dns(data: bytes, tree: Tree) -> None:
    """Unicast DNS (port 53)."""
    _decode(data, tree, mdns=False, llmnr=False)


def decode_mdns(data: bytes, tree: Tree) -> None:
    """Multicast DNS (port 5353): class top bit is QU / cache-flush."""
    _decode(data, tree, mdns=True, llmnr=False)


def decode_llmnr(data: bytes, tree: Tree) -> None:
    """LLMNR (port 5355): DNS with its own flag bits (C, TC, T)."""
    _decode(data, tree, mdns=False, llmnr=True)


def looks_like_dns(data: bytes) -> bool:
    """Content heuristic (no port known): a plausible header and every section parses to the
    last byte. Strict on purpose: two random bytes of ID make the header alone meaningless."""
    if len(data) < 17:
        return False
    qd, an, ns, ar = (int.from_bytes(data[i:i + 2], "big") for i in (4, 6, 8, 10))
    opcode = (data[2] >> 3) & 0xF
    if opcode not in (0, 1, 2, 4, 5) or qd > 16 or an + ns + ar > 256 or qd + an + ns + ar == 0:
        return False
    if qd and data[12] >= 0xC0:  # the first name cannot be a compression pointer
        return False
    tree = Tree("dns")
    try:
        _decode(data, tree, mdns=False, llmnr=False)
    except Exception:
        return False
    return True
