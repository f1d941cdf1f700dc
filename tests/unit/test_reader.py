# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The reader's message decoding, on netlink messages built in memory (no socket, no kernel)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import Address
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
