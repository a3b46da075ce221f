"""The workspace file: the schema read, every mistake reported once with file, line and key,
and what is saved read back the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.clitools import run_cli
from udpscope.workspace import (
    JoinSpec,
    WorkspaceError,
    dump_workspace,
    load_workspace,
    parse_workspace,
    save_workspace,
)

FULL = """\
# a comment
[[socket]]
type = "udp4"
bind = "127.0.0.1:5000"
ttl = 5
multicast_ttl = 3
multicast_loopback = false
broadcast = true
join = ["239.1.2.3@eth0", "232.1.1.1@eth0 from 10.0.0.1"]
respond = ["text:ping=>text:pong", "*=>echo"]

[[socket]]
bind = "[::1]:0"

[[payload]]
name = "hello"
to = "127.0.0.1:5000"
text = "hello"

[[payload]]
name = "bytes"
hex = "de ad be ef"

[[payload]]
name = "frame"
to = "[::1]:6000"
file = "frame.bin"
"""


def test_the_spec_schema_is_read(tmp_path: Path) -> None:
    (tmp_path / "frame.bin").write_bytes(b"\x00frame\xff")
    path = tmp_path / "w.toml"
    path.write_text(FULL)
    ws = load_workspace(path)
    first, second = ws.sockets
    assert (first.type, first.bind, first.ttl, first.multicast_ttl, first.multicast_loopback,
            first.broadcast) == ("udp4", ("127.0.0.1", 5000), 5, 3, False, True)
    assert first.joins == [JoinSpec("239.1.2.3", "eth0"), JoinSpec("232.1.1.1", "eth0", "10.0.0.1")]
    assert first.respond == ["text:ping=>text:pong", "*=>echo"]
    assert (second.type, second.bind, second.ttl) == ("udp6", ("::1", 0), None)
    assert [(p.name, p.kind, p.data, p.to) for p in ws.payloads] == [
        ("hello", "text", b"hello", ("127.0.0.1", 5000)),
        ("bytes", "hex", b"\xde\xad\xbe\xef", None),
        ("frame", "file", b"\x00frame\xff", ("::1", 6000)),
    ]


def test_save_and_load_give_the_same_workspace(tmp_path: Path) -> None:
    (tmp_path / "frame.bin").write_bytes(b"\x00frame\xff")
    (tmp_path / "w.toml").write_text(FULL)
    ws = load_workspace(tmp_path / "w.toml")
    elsewhere = tmp_path / "sub"
    elsewhere.mkdir()
    save_workspace(ws, elsewhere / "copy.toml")
    again = load_workspace(elsewhere / "copy.toml")  # the payload file is found from there too
    assert again.sockets == ws.sockets
    assert [(p.name, p.kind, p.data, p.to) for p in again.payloads] == [
        (p.name, p.kind, p.data, p.to) for p in ws.payloads]
    assert 'file = "../frame.bin"' in (elsewhere / "copy.toml").read_text()
    assert parse_workspace(dump_workspace(again), base=elsewhere).sockets == ws.sockets


BAD = [
    # (file text, line, key, words in the detail)
    ('[[socket]]\nbind = "127.0.0.1:5000"\nttl = 300\n', 3, "socket[1].ttl", "out of range (1-255)"),
    ('[[socket]]\nbind = "127.0.0.1:5000"\nttl = "5"\n', 3, "socket[1].ttl", "must be an integer, not text"),
    ('[[socket]]\nbind = "127.0.0.1:5000"\n\n[[socket]]\nbind = "1.2.3.4:99999"\n', 5,
     "socket[2].bind", "99999"),
    ('[[socket]]\nbind = "5000"\njion = ["239.1.1.1"]\n', 3, "socket[1].jion", "unknown key"),
    ('[[socket]]\nbind = "5000"\njoin = ["10.0.0.1"]\n', 3, "socket[1].join", "not a multicast address"),
    ('[[socket]]\ntype = "udp4"\nbind = "5000"\njoin = ["ff02::1"]\n', 4, "socket[1].join",
     "not an IPv4 group"),
    ('[[socket]]\nbind = "5000"\njoin = ["232.1.1.1@eth0 from ::1"]\n', 3, "socket[1].join",
     "different families"),
    ('[[socket]]\nbind = "5000"\nrespond = ["ping"]\n', 3, "socket[1].respond", "has no '=>'"),
    ('[[socket]]\ntype = "udp5"\n', 2, "socket[1].type", '"udp4" or "udp6"'),
    ('[[socket]]\ntype = "udp6"\nbind = "127.0.0.1:1"\n', 3, "socket[1].bind", "not an IPv6 address"),
    ('[[socket]]\nttl = 4\n', 2, "socket[1].ttl", "needs bind"),
    ('[[payload]]\ntext = "x"\n', 1, "payload[1]", "needs a name"),
    ('[[payload]]\nname = "a"\ntext = "x"\nhex = "00"\n', 4, "payload[1].hex", "exactly one of"),
    ('[[payload]]\nname = "a"\nhex = "0g"\n', 3, "payload[1].hex", "bad character 'g'"),
    ('[[payload]]\nname = "a"\nfile = "missing.bin"\n', 3, "payload[1].file", "not found"),
    ('[[payload]]\nname = "a"\nto = "127.0.0.1"\ntext = "x"\n', 3, "payload[1].to", "needs a port"),
    ('[socket]\nbind = "5000"\n', 1, "socket", "array of tables"),
    ('colour = "red"\n', 1, "colour", "unknown key"),
    ('[[socket]]\nbind = "5000\n', 2, "bind", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "line", "key", "words"), BAD)
def test_a_bad_file_gets_one_message_with_file_line_and_key(
        tmp_path: Path, text: str, line: int, key: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(WorkspaceError) as info:
        load_workspace(path)
    err = info.value
    assert (err.line, err.key) == (line, key), str(err)
    assert words in err.detail
    assert str(err).startswith(f"{path}:{line}: {key}: ")


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "latin1.toml").write_bytes(b'[[payload]]\nname = "caf\xe9"\ntext = "x"\n')
    with pytest.raises(WorkspaceError, match=r"latin1.toml:2: not UTF-8"):
        load_workspace(tmp_path / "latin1.toml")
    with pytest.raises(WorkspaceError, match="not found"):
        load_workspace(tmp_path / "none.toml")


def test_cli_refuses_a_bad_workspace_before_anything_starts(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[socket]]\nbind = "127.0.0.1:0"\nmulticast_ttl = -1\n')
    res = run_cli("--workspace", str(path))
    err = res.stderr.decode()
    assert res.returncode == 2, err
    lines = err.strip().splitlines()
    assert lines[-1].endswith(f"argument --workspace: {path}:3: socket[1].multicast_ttl: "
                              "-1 is out of range (0-255)")
    assert "Traceback" not in err and not res.stdout  # the TUI never started
    res = run_cli("listen", "0", "--workspace", str(path))
    assert res.returncode == 2


def test_cli_hands_a_good_workspace_to_the_tui(tmp_path: Path, monkeypatch) -> None:
    import sys
    import types

    from udpscope.cli import main as cli_main

    calls = []
    fake = types.ModuleType("udpscope.tui.app")
    fake.run_app = lambda *args, **kwargs: calls.append((args, kwargs)) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "udpscope.tui.app", fake)
    monkeypatch.setattr(cli_main, "not_a_terminal", lambda: None)  # pytest's stdin is no tty
    path = tmp_path / "ok.toml"
    path.write_text('[[socket]]\nbind = "127.0.0.1:0"\nttl = 3\n')
    assert cli_main.main(["--workspace", str(path), "--theme", "dark"]) == 0
    ((args, kwargs),) = calls
    assert args == ([], [], False, "dark")
    assert [s.ttl for s in kwargs["workspace"].sockets] == [3]
