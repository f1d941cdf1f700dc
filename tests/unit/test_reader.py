# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The reader's message decoding, on netlink messages built in memory (no socket, no kernel)."""

from __future__ import annotations

import ipaddress
import socket
import typing as t

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import Address, Link, Namespace
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import HAS_PYROUTE2
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._reader import address_from_msg

pytestmark = pytest.mark.skipif(not HAS_PYROUTE2, reason='builds pyroute2 messages')


def ifaddrmsg(family: int, address: str, prefixlen: int, flags: int, scope: int = 0) -> object:
    """An RTM_NEWADDR as the kernel sends it, encoded and decoded again."""
    from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg as message

    msg = message()
    msg['family'], msg['prefixlen'], msg['flags'], msg['scope'], msg['index'] = family, prefixlen, flags & 0xff, scope, 2
    msg['attrs'] = [('IFA_ADDRESS', address), ('IFA_LOCAL', address), ('IFA_FLAGS', flags)]
    msg.encode()
    decoded = message(msg.data)
    decoded.decode()
    return decoded


@pytest.mark.parametrize('family, address, flags, expected', [
    (socket.AF_INET, '10.0.0.2', 0x80, Address('eth0', ipaddress.ip_interface('10.0.0.2/24'))),
    (socket.AF_INET, '10.0.0.2', 0x81, Address('eth0', ipaddress.ip_interface('10.0.0.2/24'), secondary=True)),
    # 0x01 is IFA_F_TEMPORARY for IPv6 (a privacy address), not "secondary".
    (socket.AF_INET6, '2001:db8::2', 0x81, Address('eth0', ipaddress.ip_interface('2001:db8::2/24'))),
    (socket.AF_INET6, '2001:db8::2', 0xc0, Address('eth0', ipaddress.ip_interface('2001:db8::2/24'), tentative=True)),
    (socket.AF_INET6, '2001:db8::2', 0x88, Address('eth0', ipaddress.ip_interface('2001:db8::2/24'), dadfailed=True)),
], ids=['v4-primary', 'v4-secondary', 'v6-temporary', 'v6-tentative', 'v6-dadfailed'])
def test_address_from_msg(family: int, address: str, flags: int, expected: Address) -> None:
    assert address_from_msg(ifaddrmsg(family, address, 24, flags), {2: 'eth0'}) == expected


def test_resolve_masters_skips_a_namespace_removed_meanwhile() -> None:
    """A listed namespace that vanished before it was opened is skipped, not a traceback."""
    import os

    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._reader import resolve_masters

    nsids = {None: 0, 'ns1': 1}  # as namespace ns0 numbers the others; 'gone' was removed
    opened = {}

    def open_fd(name: t.Optional[str]) -> int:
        if name == 'gone':
            raise FileNotFoundError(2, 'No such file or directory')
        fd = os.open(os.devnull, os.O_RDONLY)
        opened[fd] = name
        return fd

    class FakeIPRoute:
        def get_netnsid(self, fd: int) -> dict[str, int]:
            return {'nsid': nsids[opened[fd]]}

    ns0 = Namespace('ns0', links={'ipvl0': Link('ipvl0', kind='ipvlan', master_index=3, master_netnsid=1)})
    resolved = resolve_masters(FakeIPRoute(), ns0, [None, 'gone', 'ns1'], open_fd)
    assert resolved.links['ipvl0'].master_netns == 'ns1'
