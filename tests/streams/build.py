"""Datagrams built from their specifications, for decoder and tracker tests.

Each builder follows its RFC/ISO layout field by field (not udpscope's decoders), so a test
that decodes them checks udpscope against the specification, and tshark checks both.
"""

from __future__ import annotations

import struct
import zlib


def rtp(seq: int, ts: int = 0, ssrc: int = 0x12345678, pt: int = 96, payload: bytes = b"",
        *, marker: bool = False, csrcs: tuple[int, ...] = (), ext: bytes | None = None,
        pad: int = 0) -> bytes:
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext is not None else 0) | len(csrcs)
    out = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                      ts & 0xFFFFFFFF, ssrc)
    out += b"".join(struct.pack("!I", c) for c in csrcs)
    if ext is not None:
        assert len(ext) % 4 == 0
        out += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    out += payload
    if pad:
        out += bytes(pad - 1) + bytes([pad])
    return out


def ts_packet(pid: int, cc: int, payload: bytes = b"", *, pusi: bool = False,
              discontinuity: bool = False, pcr: int | None = None, has_payload: bool = True,
              tei: bool = False) -> bytes:
    """One 188-byte TS packet; an adaptation field when a flag or PCR needs one (stuffed)."""
    b1 = (0x80 if tei else 0) | (0x40 if pusi else 0) | (pid >> 8)
    need_af = discontinuity or pcr is not None or not has_payload
    afc = (2 if need_af else 0) | (1 if has_payload else 0)
    head = bytes([0x47, b1, pid & 0xFF, (afc << 4) | (cc & 0x0F)])
    body = b""
    if need_af:
        flags = (0x80 if discontinuity else 0) | (0x10 if pcr is not None else 0)
        af = bytes([flags])
        if pcr is not None:
            base, ext = divmod(pcr, 300)
            af += struct.pack("!IH", base >> 1, ((base & 1) << 15) | 0x7E00 | ext)
        room = 184 - (len(payload) if has_payload else 0)
        af = af + b"\xff" * max(0, room - 1 - len(af))
        body = bytes([len(af)]) + af
    if has_payload:
        body += payload
        body += b"\xff" * (184 - len(body))
    packet = head + body
    assert len(packet) == 188, len(packet)
    return packet


def psi_section(table_id: int, ident: int, body: bytes, version: int = 0) -> bytes:
    """A PSI section with its CRC-32/MPEG-2, preceded by a zero pointer field."""
    length = 5 + len(body) + 4
    sec = bytes([table_id, 0xB0 | (length >> 8), length & 0xFF]) + struct.pack("!H", ident)
    sec += bytes([0xC1 | (version << 1), 0, 0]) + body
    return b"\x00" + sec + struct.pack("!I", crc32_mpeg(sec))


def crc32_mpeg(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def pat(programs: dict[int, int], tsid: int = 1) -> bytes:
    body = b"".join(struct.pack("!HH", prog, 0xE000 | pid) for prog, pid in programs.items())
    return psi_section(0x00, tsid, body)


def pmt(program: int, pcr_pid: int, streams: list[tuple[int, int]]) -> bytes:
    body = struct.pack("!HH", 0xE000 | pcr_pid, 0xF000)
    body += b"".join(struct.pack("!BHH", st, 0xE000 | pid, 0xF000) for st, pid in streams)
    return psi_section(0x02, program, body)


def ntp(mode: int = 3, version: int = 4, stratum: int = 0, ref: bytes = b"\0\0\0\0",
        transmit: int = 0) -> bytes:
    return struct.pack("!BBbbII4sQQQQ", (version << 3) | mode, stratum, 6, -20, 0, 0, ref, 0, 0,
                       0, transmit)


def ptp_header(msg_type: int, length: int, seq: int, domain: int = 0,
               clock: bytes = b"\x00\x1b\x19\xff\xfe\x00\x00\x01", port: int = 1,
               flags: int = 0x0200) -> bytes:
    return struct.pack("!BBHBBHq4s8sHHBb", msg_type, 2, length, domain, 0, flags, 0, b"\0" * 4,
                       clock, port, seq, 0, 0)


def ptp_sync(seq: int, seconds: int = 1_700_000_000, nanos: int = 5) -> bytes:
    body = seconds.to_bytes(6, "big") + struct.pack("!I", nanos)
    return ptp_header(0x0, 44, seq) + body


def ptp_announce(seq: int, gm: bytes = b"\xaa\xbb\xcc\xff\xfe\xdd\xee\xff") -> bytes:
    body = (b"\0" * 10 + struct.pack("!hBBBBHB", 37, 0, 128, 6, 0x21, 0x4E5D, 128) + gm
            + struct.pack("!HB", 0, 0x20))
    return ptp_header(0xB, 64, seq, flags=0x0008) + body


def coap(mtype: int, code: int, mid: int, token: bytes = b"",
         options: list[tuple[int, bytes]] | None = None, payload: bytes = b"") -> bytes:
    out = bytes([0x40 | (mtype << 4) | len(token), code]) + struct.pack("!H", mid) + token
    last = 0
    for number, value in sorted(options or [], key=lambda o: o[0]):
        delta = number - last
        last = number

        def nib(v: int) -> tuple[int, bytes]:
            if v < 13:
                return v, b""
            if v < 269:
                return 13, bytes([v - 13])
            return 14, struct.pack("!H", v - 269)

        dn, dx = nib(delta)
        ln, lx = nib(len(value))
        out += bytes([(dn << 4) | ln]) + dx + lx + value
    if payload:
        out += b"\xff" + payload
    return out


def sap(sdp: bytes, source: bytes = b"\xc0\xa8\x01\x02", *, deletion: bool = False,
        compressed: bool = False, with_type: bool = True) -> bytes:
    body = zlib.compress(sdp) if compressed else sdp
    flags = 0x20 | (0x04 if deletion else 0) | (0x01 if compressed else 0)
    head = bytes([flags, 0]) + struct.pack("!H", 0x1234) + source
    return head + (b"application/sdp\x00" if with_type else b"") + body


SDP = (b"v=0\r\no=- 1 1 IN IP4 192.168.1.2\r\ns=Channel One\r\nc=IN IP4 239.1.1.1/32\r\n"
       b"t=0 0\r\nm=video 5004 RTP/AVP 33\r\na=rtpmap:33 MP2T/90000\r\n")

WSD_PROBE = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    b'xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
    b'xmlns:wsdp="http://schemas.xmlsoap.org/ws/2006/02/devprof">'
    b"<soap:Header><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>"
    b"<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>"
    b"<wsa:MessageID>urn:uuid:0b7d0f8e-0c8b-4f7c-9a3e-1a2b3c4d5e6f</wsa:MessageID>"
    b"</soap:Header><soap:Body><wsd:Probe><wsd:Types>wsdp:Device</wsd:Types></wsd:Probe>"
    b"</soap:Body></soap:Envelope>")

MSEARCH = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
           b"MX: 2\r\nST: ssdp:all\r\n\r\n")
NOTIFY = (b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
          b"LOCATION: http://192.168.1.10:80/desc.xml\r\nNT: upnp:rootdevice\r\n"
          b"NTS: ssdp:alive\r\nUSN: uuid:abc::upnp:rootdevice\r\n\r\n")
SSDP_RESPONSE = (b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\n"
                 b"USN: uuid:abc::upnp:rootdevice\r\nLOCATION: http://192.168.1.10:80/d.xml\r\n"
                 b"\r\n")
