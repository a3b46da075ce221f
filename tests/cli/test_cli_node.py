"""Interop with Node's own dgram: Node sends to `udpscope listen`, `udpscope send` sends to
Node, byte-exact (empty, binary, the largest datagram), over IPv4 and IPv6 loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.clitools import Proc, run_cli
from tests.cli.test_cli_listen import has_ipv6

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

BINARY = b"\x00\xff\x00\x01binary\xff\xfe\x80\x1b[2J\n"
FAMILIES = [
    pytest.param("udp4", "127.0.0.1", 65507, id="ipv4"),
    pytest.param("udp6", "::1", 65507, id="ipv6",
                 marks=pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")),
    pytest.param("udp6", "::1", 65527, id="ipv6-max",
                 marks=pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")),
]


def payloads(big: int) -> list[bytes]:
    return [b"", BINARY, (bytes(range(256)) * 256)[:big]]


@pytest.mark.parametrize(("family", "host", "big"), FAMILIES)
def test_node_sends_to_udpscope_listen(family: str, host: str, big: int) -> None:
    data = payloads(big)
    bind = f"[{host}]:0" if ":" in host else f"{host}:0"
    with Proc(["listen", bind, "--format", "jsonl", "--count", str(len(data)), "--timeout", "30"]) as p:
        port = p.json()["port"]
        node = subprocess.run([NODE, str(HERE / "node_send.js"), family, host, str(port)],
                              input=json.dumps([d.hex() for d in data]).encode(),
                              capture_output=True, timeout=30, check=False)
        assert node.returncode == 0, node.stderr
        report = json.loads(node.stdout)
        assert report["sent"] == [len(d) for d in data]
        got = [p.json() for _ in data]
        assert [bytes.fromhex(m["hex"]) for m in got] == data
        assert [m["size"] for m in got] == [len(d) for d in data]
        assert {(m["address"], m["port"], m["family"]) for m in got} == {
            (host, report["port"], "IPv4" if family == "udp4" else "IPv6")}
        assert p.json() == {"event": "close"}
        assert p.wait() == 0


@pytest.mark.parametrize(("family", "host", "big"), FAMILIES)
def test_udpscope_send_to_node(family: str, host: str, big: int, tmp_path) -> None:
    data = payloads(big)
    with Proc([str(HERE / "node_recv.js"), family, host, str(len(data))], cmd=[NODE]) as node:
        port = node.json()["port"]
        for i, d in enumerate(data):
            if d:
                f = tmp_path / f"p{i}.bin"
                f.write_bytes(d)
                res = run_cli("send", host, str(port), "--file", str(f))
            else:
                res = run_cli("send", host, str(port))  # no payload: one empty datagram
            assert res.returncode == 0, res.stderr
        got = [node.json() for _ in data]
        assert [bytes.fromhex(m["hex"]) for m in got] == data
        assert [m["size"] for m in got] == [len(d) for d in data]
        assert {m["address"] for m in got} == {host}
        assert node.wait() == 0
