"""The measurement behind udpscope's choice to write pcap/pcapng itself (README, "Dependencies").

Compares python-pcapng, dpkt and scapy with a struct-packed writer: import time (a fresh
interpreter, best of 5) and write/read speed for 100k 64-byte UDP datagrams in IPv4. Needs the
three libraries, which udpscope does not depend on:

    python -m venv /tmp/cmp && /tmp/cmp/bin/pip install python-pcapng dpkt scapy
    /tmp/cmp/bin/python scripts/compare_pcap_libs.py
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

N = 100_000
PAYLOAD = b"x" * 64
PKT = (struct.pack("!BBHHHBBH4s4s", 0x45, 0, 92, 0, 0, 64, 17, 0, b"\x7f\0\0\x01", b"\x7f\0\0\x01")
       + struct.pack("!HHHH", 40000, 5000, 72, 0) + PAYLOAD)


def import_ms(module: str) -> float:
    best = float("inf")
    for _ in range(5):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                             capture_output=True, text=True, check=True).stderr
        best = min(best, int(err.strip().splitlines()[-1].split("|")[1]) / 1000)
    return best


def rate(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return N / best


def write_dpkt_each() -> None:
    import dpkt

    w = dpkt.pcapng.Writer(io.BytesIO(), linktype=dpkt.pcap.DLT_RAW)
    for i in range(N):
        w.writepkt_time(PKT, 1.7e9 + i * 1e-6)


def write_dpkt_batch() -> None:
    import dpkt

    w = dpkt.pcapng.Writer(io.BytesIO(), linktype=dpkt.pcap.DLT_RAW)
    w.writepkts((1.7e9 + i * 1e-6, PKT) for i in range(N))


def write_python_pcapng() -> None:
    from pcapng import FileWriter, blocks

    shb = blocks.SectionHeader(options={"shb_userappl": "cmp"})
    shb.new_member(blocks.InterfaceDescription, link_type=101,
                   options={"if_name": "lo", "if_tsresol": b"\x06"})
    w = FileWriter(io.BytesIO(), shb)
    for i in range(N):
        epb = shb.new_member(blocks.EnhancedPacket)
        epb.interface_id = 0
        epb.timestamp = 1.7e9 + i * 1e-6
        epb.packet_data = PKT
        w.write_block(epb)


def write_scapy() -> None:
    from scapy.layers.inet import IP
    from scapy.utils import PcapNgWriter

    with tempfile.TemporaryDirectory() as tmp:
        w = PcapNgWriter(os.path.join(tmp, "s.pcapng"))
        p = IP(PKT)
        for i in range(N):
            p.time = 1.7e9 + i * 1e-6
            w.write(p)
        w.close()


def write_udpscope() -> None:
    from udpscope.files.pcapng_writer import PcapngWriter

    w = PcapngWriter(io.BytesIO())  # type: ignore[arg-type]  # BytesIO is a binary stream
    for i in range(N):
        w.add(PAYLOAD, "127.0.0.1", 40000, "127.0.0.1", 5000, 1.7e9 + i * 1e-6, "lo", 64)
    w.flush()


def read_all(data: bytes) -> dict[str, Callable[[], object]]:
    def dpkt_read() -> None:
        import dpkt

        for _ts, buf in dpkt.pcapng.Reader(io.BytesIO(data)):
            _ = dpkt.ip.IP(buf).data.data

    def pcapng_read() -> None:
        from pcapng import FileScanner, blocks

        for b in FileScanner(io.BytesIO(data)):
            if isinstance(b, blocks.EnhancedPacket):
                _ = (b.packet_data, b.timestamp)

    def scapy_read() -> None:
        from scapy.utils import PcapNgReader

        for p in PcapNgReader(io.BytesIO(data)):
            _ = bytes(p.payload.payload)

    def udpscope_read() -> None:
        from udpscope.files.capture_file import CaptureReader

        with tempfile.NamedTemporaryFile(suffix=".pcapng") as f:
            f.write(data)
            f.flush()
            with CaptureReader(f.name) as reader:
                for _ in reader:
                    pass

    return {"dpkt Reader + IP": dpkt_read, "python-pcapng FileScanner": pcapng_read,
            "scapy PcapNgReader": scapy_read, "udpscope CaptureReader": udpscope_read}


def main() -> None:
    for name, module in (("dpkt", "dpkt"), ("python-pcapng", "pcapng"),
                         ("scapy", "scapy.utils"), ("udpscope.files", "udpscope.files.capture_file")):
        print(f"import {name:26s} {import_ms(module):7.1f} ms")
    for name, fn in (("dpkt writepkt_time", write_dpkt_each), ("dpkt writepkts (batch)", write_dpkt_batch),
                     ("python-pcapng", write_python_pcapng), ("scapy PcapNgWriter", write_scapy),
                     ("udpscope PcapngWriter", write_udpscope)):
        print(f"write  {name:26s} {rate(fn) / 1000:7.0f} k packets/s")
    import dpkt

    buf = io.BytesIO()
    dpkt.pcapng.Writer(buf, linktype=dpkt.pcap.DLT_RAW).writepkts(
        (1.7e9 + i * 1e-6, PKT) for i in range(N))
    for name, fn in read_all(buf.getvalue()).items():
        print(f"read   {name:26s} {rate(fn) / 1000:7.0f} k packets/s")


if __name__ == "__main__":
    main()
