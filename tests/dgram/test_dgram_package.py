"""The package's public names: each resolves to its home module, and importing the package
alone loads no engine module (the TUI draws its first frame before the engine is needed)."""

from __future__ import annotations

import subprocess
import sys

from udpscope import dgram
from udpscope.dgram.batch import Batch
from udpscope.dgram.errors import DgramError
from udpscope.dgram.socket import Socket, create_socket


def test_every_public_name_resolves() -> None:
    for name in dgram.__all__:
        assert getattr(dgram, name) is not None, name
    assert sorted(dgram.__all__) == sorted(dgram._HOME)
    assert set(dgram.__all__) <= set(dir(dgram))


def test_names_are_the_home_modules_objects() -> None:
    assert dgram.Socket is Socket
    assert dgram.create_socket is create_socket
    assert dgram.Batch is Batch
    assert dgram.DgramError is DgramError


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        dgram.createSocket  # noqa: B018 - Node's spelling is not ours
    except AttributeError as exc:
        assert "createSocket" in str(exc)
    else:
        raise AssertionError("dgram.createSocket resolved")


def test_importing_the_package_loads_no_engine_module() -> None:
    code = ("import sys, udpscope.dgram; "
            "print(sorted(m for m in sys.modules if m.startswith('udpscope.dgram.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    code = ("import sys, udpscope.dgram as d; d.create_socket; "
            "print('udpscope.dgram.socket' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
