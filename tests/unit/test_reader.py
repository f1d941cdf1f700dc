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

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import Address, Link, Namespace, NextHop, Route
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import HAS_PYROUTE2
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._reader import address_from_msg, route_from_msg

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

    class FakeDumpSocket:
        def netnsid(self, fd: int) -> int:
            return nsids[opened[fd]]

    ns0 = Namespace('ns0', links={'ipvl0': Link('ipvl0', kind='ipvlan', master_index=3, master_netnsid=1)})
    resolved = resolve_masters(FakeDumpSocket(), ns0, lambda: [None, 'gone', 'ns1'], open_fd)
    assert resolved.links['ipvl0'].master_netns == 'ns1'


def rtmsg(family: int, dst: t.Optional[str], dst_len: int, attrs: list[t.Any], **header: int) -> object:
    """An RTM_NEWROUTE as the kernel sends it, encoded and decoded again."""
    from pyroute2.netlink.rtnl.rtmsg import rtmsg as message

    msg = message()
    fields = dict(family=family, dst_len=dst_len, table=254, proto=4, scope=0, type=1, flags=0, tos=0)
    fields.update(header)
    for name, value in fields.items():
        msg[name] = value
    msg['table'] = min(fields['table'], 252)   # RT_TABLE_COMPAT: the real id is in RTA_TABLE
    msg['attrs'] = ([('RTA_DST', dst)] if dst else []) + [('RTA_TABLE', fields['table'])] + attrs
    msg.encode()
    decoded = message(msg.data)
    decoded.decode()
    return decoded


NAMES = {1: 'lo', 2: 'eth0', 3: 'eth1'}
NET = ipaddress.ip_network
IP = ipaddress.ip_address


@pytest.mark.parametrize('msg, expected', [
    (lambda: rtmsg(socket.AF_INET, '198.51.100.0', 24, [('RTA_OIF', 2), ('RTA_PREFSRC', '198.51.100.2')],
                   proto=2, scope=253),
     Route(NET('198.51.100.0/24'), dev='eth0', scope=253, proto=2, prefsrc=IP('198.51.100.2'))),
    (lambda: rtmsg(socket.AF_INET, '203.0.113.0', 24, [('RTA_PRIORITY', 5)], type=6, table=1000),
     Route(NET('203.0.113.0/24'), metric=5, table=1000, type='blackhole')),
    (lambda: rtmsg(socket.AF_INET6, '2001:db8:5::', 48, [('RTA_OIF', 1), ('RTA_PRIORITY', 1024)], type=8),
     Route(NET('2001:db8:5::/48'), dev='lo', metric=1024, type='prohibit')),
    (lambda: rtmsg(socket.AF_INET, None, 0, [('RTA_MULTIPATH', [
        {'oif': 2, 'hops': 1, 'flags': 0, 'attrs': [('RTA_GATEWAY', '198.51.100.1')]},
        {'oif': 3, 'hops': 0, 'flags': 4, 'attrs': [('RTA_GATEWAY', '203.0.113.1')]},
        {'oif': 3, 'hops': 0, 'flags': 0, 'attrs': []}])], tos=0x10),
     Route(NET('0.0.0.0/0'), tos=0x10, nexthops=(NextHop(IP('198.51.100.1'), 'eth0', weight=2),
                                                 NextHop(IP('203.0.113.1'), 'eth1', onlink=True),
                                                 NextHop(dev='eth1')))),
    (lambda: rtmsg(socket.AF_INET, '203.0.113.0', 24, [('RTA_OIF', 2), ('RTA_GATEWAY', '192.0.2.1')], flags=4),
     Route(NET('203.0.113.0/24'), IP('192.0.2.1'), dev='eth0', onlink=True)),
    (lambda: rtmsg(socket.AF_INET, '203.0.113.0', 24, [('RTA_OIF', 2), ('RTA_VIA', {'family': 10, 'addr': 'fe80::1'})]),
     Route(NET('203.0.113.0/24'), IP('fe80::1'), dev='eth0')),
], ids=['kernel-prefix-route', 'blackhole-table-1000', 'v6-prohibit-on-lo', 'multipath', 'onlink', 'v4-via-inet6'])
def test_route_from_msg(msg: t.Callable[[], object], expected: Route) -> None:
    assert route_from_msg(msg(), NAMES) == expected


def test_route_from_msg_leaves_the_local_table_and_clones_out() -> None:
    assert route_from_msg(rtmsg(socket.AF_INET, '198.51.100.2', 32, [('RTA_OIF', 2)], table=255, type=2), NAMES) is None
    assert route_from_msg(rtmsg(socket.AF_INET6, '2001:db8::9', 128, [('RTA_OIF', 2)], flags=0x200), NAMES) is None


def dumps(*outcomes: t.Any) -> t.Callable[[], list]:
    """A dump function answering with OUTCOMES in turn: a list of header flags, or an exception."""
    answers = list(outcomes)

    def dump() -> list:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return [{'header': {'flags': flags}} for flags in answer]
    return dump


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils import _reader
    monkeypatch.setattr(_reader, 'DUMP_BACKOFF', 0)


@pytest.mark.usefixtures('no_backoff')
def test_an_interrupted_dump_is_read_again() -> None:
    """pyroute2 0.9 passes NLM_F_DUMP_INTR on in the messages; 0.7 raises at the end of the dump."""
    from pyroute2.netlink.exceptions import NetlinkDumpInterrupted

    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._reader import consistent

    dump = dumps([2, 0x12, 2], NetlinkDumpInterrupted(), [2, 2])
    assert consistent(dump, 'addresses in ns0') == [{'header': {'flags': 2}}] * 2


@pytest.mark.usefixtures('no_backoff')
def test_dumps_interrupted_again_and_again_fail_cleanly() -> None:
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._reader import DUMP_ATTEMPTS, consistent

    with pytest.raises(TaskError, match=r'^addresses in ns0: the kernel interrupted %d dumps' % DUMP_ATTEMPTS):
        consistent(dumps(*[[0x12]] * DUMP_ATTEMPTS), 'addresses in ns0')
