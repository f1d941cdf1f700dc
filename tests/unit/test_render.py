# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Plain-data views: what the facts module returns and route lines in check mode and diff."""

from __future__ import annotations

import ipaddress
import typing as t

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._gather import gathered
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import SCOPES
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    MANAGED_ALIAS,
    ROOT,
    UNNAMED,
    Address,
    Link,
    Namespace,
    NextHop,
    Route,
    World,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import master_name, namespace_view, route_view

net = ipaddress.ip_network
addr = ipaddress.ip_address
ETH0 = Link('eth0', ifindex=2, up=True, mtu=1500, mac='52:54:00:00:01:01')
IPVL0 = Link('ipvl0', ifindex=5, kind='ipvlan', up=True, mtu=1500, mac=ETH0.mac, alias=MANAGED_ALIAS,
             master_index=2, master_netns=ROOT, ipvlan_mode='l2', ipvlan_flags='private')


CONNECTED = Route(net('198.51.100.0/24'), dev='ipvl0', scope=SCOPES['link'], proto=2, prefsrc=addr('198.51.100.11'))


def host() -> World:
    return World(namespaces={
        ROOT: Namespace(ROOT, links={'eth0': ETH0}),
        'ns0': Namespace('ns0', links={'ipvl0': IPVL0}, addresses=[
            Address('ipvl0', ipaddress.ip_interface('2001:db8::11/64')),
            Address('ipvl0', ipaddress.ip_interface('198.51.100.11/24'))],
            routes=[Route(net('0.0.0.0/0'), addr('198.51.100.1'), dev='ipvl0'), CONNECTED]),
    })


@pytest.mark.parametrize('route, line', [
    (Route(net('0.0.0.0/0'), addr('198.51.100.1'), dev='ipvl0'), 'default via 198.51.100.1 dev ipvl0'),
    (Route(net('::/0'), addr('fe80::1'), dev='ipvl0', metric=1024), 'default via fe80::1 dev ipvl0 metric 1024'),
    (Route(net('203.0.113.0/24'), dev='ipvl0', scope=SCOPES['link']), '203.0.113.0/24 dev ipvl0 scope link'),
    (Route(net('203.0.113.0/24'), addr('192.0.2.1'), dev='ipvl0', table=1000, onlink=True),
     '203.0.113.0/24 via 192.0.2.1 dev ipvl0 table 1000 onlink'),
    (Route(net('198.51.100.7/32'), addr('198.51.100.1'), table=253, metric=7),
     '198.51.100.7/32 via 198.51.100.1 table 253 metric 7'),
    (CONNECTED, '198.51.100.0/24 dev ipvl0 proto kernel scope link src 198.51.100.11'),
    (Route(net('203.0.113.0/24'), type='blackhole'), 'blackhole 203.0.113.0/24'),
    (Route(net('2001:db8:5::/48'), dev='lo', type='unreachable', metric=1024),
     'unreachable 2001:db8:5::/48 dev lo metric 1024'),
    (Route(net('203.0.113.0/24'), nexthops=(NextHop(addr('192.0.2.1'), 'eth0', weight=2),
                                            NextHop(addr('192.0.2.9'), 'eth1', onlink=True))),
     '203.0.113.0/24 nexthop via 192.0.2.1 dev eth0 weight 2 nexthop via 192.0.2.9 dev eth1 onlink'),
    (Route(net('203.0.113.0/24'), addr('192.0.2.1'), tos=0x10), '203.0.113.0/24 via 192.0.2.1 tos 0x10'),
])
def test_route_render(route: Route, line: str) -> None:
    assert route.render() == line


@pytest.mark.parametrize('route, fields', [
    (Route(net('0.0.0.0/0'), addr('198.51.100.1')),
     dict(dst='default', family='ipv4', gateway='198.51.100.1', dev=None, table='main', scope='universe')),
    (Route(net('2001:db8:1::/64'), dev='ipvl0', metric=1024, table=253),
     dict(dst='2001:db8:1::/64', family='ipv6', gateway=None, metric=1024, table='default')),
    (Route(net('203.0.113.0/24'), dev='ipvl0', scope=SCOPES['link'], table=1000),
     dict(table=1000, scope='link', onlink=False, proto=4)),
])
def test_route_view(route: Route, fields: dict[str, t.Any]) -> None:
    viewed = route_view(route)
    assert {key: viewed[key] for key in fields} == fields


def test_namespace_view_of_an_ipvlan_slave() -> None:
    world = host()
    assert namespace_view(world, world.get('ns0')) == {
        'links': {'ipvl0': {
            'ifindex': 5, 'kind': 'ipvlan', 'state': 'up', 'mtu': 1500, 'mac': ETH0.mac, 'alias': MANAGED_ALIAS,
            'managed': True, 'owner': 'default', 'addresses': ['198.51.100.11/24', '2001:db8::11/64'],
            'ipvlan': {'mode': 'l2', 'flags': 'private', 'master': 'eth0', 'master_ifindex': 2, 'master_netns': None},
        }},
        'routes': [
            dict(dst='198.51.100.0/24', family='ipv4', type='unicast', gateway=None, dev='ipvl0', nexthops=[],
                 metric=0, table='main', scope='link', onlink=False, proto=2, kernel=True, prefsrc='198.51.100.11',
                 tos=0),
            dict(dst='default', family='ipv4', type='unicast', gateway='198.51.100.1', dev='ipvl0', nexthops=[],
                 metric=0, table='main', scope='universe', onlink=False, proto=4, kernel=False, prefsrc=None, tos=0)],
    }
    # Modules other than facts leave the kernel's routes out.
    assert [r['dst'] for r in namespace_view(world, world.get('ns0'), kernel_routes=False)['routes']] == ['default']


def test_multipath_route_view() -> None:
    route = Route(net('2001:db8:5::/48'), metric=1024, nexthops=(NextHop(addr('2001:db8::1'), 'eth0', weight=3),
                                                                 NextHop(addr('fe80::1'), 'eth1')))
    viewed = route_view(route)
    assert (viewed['gateway'], viewed['dev'], viewed['type']) == (None, None, 'unicast')
    assert viewed['nexthops'] == [dict(gateway='2001:db8::1', dev='eth0', weight=3, onlink=False),
                                  dict(gateway='fe80::1', dev='eth1', weight=1, onlink=False)]


@pytest.mark.parametrize('link, name', [
    (IPVL0, 'eth0'),
    (Link('x', kind='ipvlan', master_index=9, master_netns=ROOT), None),
    (Link('x', kind='ipvlan', master_index=2, master_netns=UNNAMED), None),
    (Link('x', kind='ipvlan', master_index=2, master_netns='ns9'), None),
], ids=['found', 'no-such-ifindex', 'unnamed-namespace', 'missing-namespace'])
def test_master_name(link: Link, name: t.Optional[str]) -> None:
    assert master_name(host(), link) == name


def test_facts_view_of_a_missing_namespace() -> None:
    data = gathered(host(), {'netns': ['ns9', 'ns0'], 'include_root': False})
    assert set(data) == {'namespaces'}
    assert data['namespaces']['ns9'] == {'exists': False, 'links': {}, 'routes': []}
    assert data['namespaces']['ns0']['exists'] is True
