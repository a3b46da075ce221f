"""Fixtures every test folder may use: network namespaces the test creates (tests/netns.py) and
the snooping-switch lab built from them (tests/snooping.py).

Defined once here, so the folders' own conftest files hold only their own fixtures. `tests.*`
imports work because pytest's `pythonpath = ["."]` (pyproject.toml) puts the repository first.
"""

from tests.netns import looped_ns, netns, netns_factory, two_links, veth_pair
from tests.snooping import lab

__all__ = ["lab", "looped_ns", "netns", "netns_factory", "two_links", "veth_pair"]
