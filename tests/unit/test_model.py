# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Validation of user input: every bad value is a TaskError naming its parameter."""

from __future__ import annotations

import ipaddress
import typing as t

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import SCOPES, TABLES
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import ROOT, NextHop, Route
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import (
    build_route,
    check_ifname,
    check_ipvlan,
    check_mtu,
    check_netns_name,
    check_unique_routes,
    parse_cidr,
    parse_destination,
    parse_table,
)

# --- namespace names -------------------------------------------------------------

CHECK_NETNS_NAME_BAD: list[tuple[t.Any, str]] = [
    ('', 'must not be empty'),
    ('.', 'not a valid namespace name'),
    ('..', 'not a valid namespace name'),
    ('a/b', 'must not contain'),
    ('/', 'is a path'),
    ('/proc/1/ns/net', 'never creates or removes'),
    ('ns\0', 'must not contain'),
    ('n' * 256, '256 bytes long'),
    # 128 characters but 256 bytes: the limit is the filesystem's, in bytes.
    ('\u00e9' * 128, '256 bytes long'),
]


@pytest.mark.parametrize('value, message', CHECK_NETNS_NAME_BAD,
                         ids=['empty', 'dot', 'dotdot', 'slash', 'only-slash', 'path', 'nul', '256-bytes', '256-bytes-utf8'])
def test_check_netns_name_rejects(value: t.Any, message: str) -> None:
    for create in (False, True):
        with pytest.raises(TaskError) as exc:
            check_netns_name(value, 'netns', create=create)
        assert exc.value.msg.startswith('netns: ')
        assert message in exc.value.msg


# What `ip netns add` accepts: anything but "", ".", "..", "/" and more than 255 bytes.
IP_NETNS_NAMES = ['ns0', 'n' * 255, 'a.b', '...', 'ns-0_x', '\u00e9' * 127, '-dash', '--', 'a b', ' ', 'back\\slash',
                  'quote"s\'', '%i$HOME;', '\u043f\u0440\u0438\u0432\u0435\u0442', '\U0001f600']
CONTROL_NAMES = ['tab\tx', 'new\nline', 'cr\rx', 'del\x7fx', 'nbsp\xa0x', 'esc\x1b[0m']


@pytest.mark.parametrize('value', IP_NETNS_NAMES + CONTROL_NAMES)
def test_check_netns_name_accepts_what_ip_accepts(value: str) -> None:
    assert check_netns_name(value, 'netns') == value


@pytest.mark.parametrize('value', IP_NETNS_NAMES)
def test_check_netns_name_creates_printable_names(value: str) -> None:
    assert check_netns_name(value, 'netns', create=True) == value


@pytest.mark.parametrize('value', CONTROL_NAMES)
def test_check_netns_name_does_not_create_control_characters(value: str) -> None:
    with pytest.raises(TaskError, match='^name: .* control or invisible character.* can be read and removed'):
        check_netns_name(value, 'name', create=True)


def test_check_netns_name_none_is_root() -> None:
    assert check_netns_name(None, 'netns') is ROOT


def test_check_netns_name_uses_the_given_parameter_name() -> None:
    with pytest.raises(TaskError, match=r'^namespaces\[2\]\.name: '):
        check_netns_name('a/b', 'namespaces[2].name')


# --- interface names -------------------------------------------------------------

CHECK_IFNAME_BAD: list[tuple[t.Any, str]] = [
    ('', 'must not be empty'),
    (None, 'must not be empty'),
    ('a' * 16, '16 bytes long; Linux allows at most 15'),
    ('\u00e9' * 8, '16 bytes long'),
    ('eth/0', 'must not be'),
    ('eth0:1', 'must not be'),
    ('eth 0', 'must not be'),
    ('eth0\t', 'must not be'),
    ('.', 'must not be'),
    ('..', 'must not be'),
    # The kernel's isspace() reads bytes as Latin-1: 0xA0 (no-break space) is whitespace to it,
    # and it is the second byte of U+00E0 and of U+0420 in UTF-8.
    ('\u00e0', 'must not be'),
    ('eth\u0420', 'must not be'),
    ('eth\u00a0', 'must not be'),
]


@pytest.mark.parametrize('value, message', CHECK_IFNAME_BAD,
                         ids=['empty', 'none', '16-bytes', '16-bytes-utf8', 'slash', 'colon', 'space', 'tab',
                              'dot', 'dotdot', 'a-grave', 'cyrillic-er', 'nbsp'])
def test_check_ifname_rejects(value: t.Any, message: str) -> None:
    with pytest.raises(TaskError) as exc:
        check_ifname(value, 'dev')
    assert exc.value.msg.startswith('dev: ')
    assert message in exc.value.msg


@pytest.mark.parametrize('value', ['eth0', 'a' * 15, 'ipvl0', 'lo', 'br-lan.100', '\u00e9' * 7])
def test_check_ifname_accepts(value: str) -> None:
    assert check_ifname(value, 'dev') == value


# --- mtu -------------------------------------------------------------------------

@pytest.mark.parametrize('value', [0, 67, 2 ** 31, -1])
def test_check_mtu_rejects(value: int) -> None:
    with pytest.raises(TaskError, match=r'^mtu: mtu %d is out of range \(68 to 2147483647\)' % value):
        check_mtu(value, 'mtu')


@pytest.mark.parametrize('value', [None, 68, 1500, 9000, 65535, 65536])
def test_check_mtu_accepts(value: t.Optional[int]) -> None:
    assert check_mtu(value, 'mtu') == value


# --- addresses -------------------------------------------------------------------

@pytest.mark.parametrize('value, message', [
    ('198.51.100.10', 'not in CIDR notation'),
    ('2001:db8::1', 'not in CIDR notation'),
    ('198.51.100.10/33', 'not a valid address'),
    ('2001:db8::1/129', 'not a valid address'),
    ('host.example/24', 'not a valid address'),
    ('198.51.100.300/24', 'not a valid address'),
    ('', 'not in CIDR notation'),
])
def test_parse_cidr_rejects(value: str, message: str) -> None:
    with pytest.raises(TaskError) as exc:
        parse_cidr(value, 'addresses')
    assert exc.value.msg.startswith('addresses: ')
    assert message in exc.value.msg


@pytest.mark.parametrize('value, expected', [
    ('198.51.100.10/24', ipaddress.IPv4Interface('198.51.100.10/24')),
    (' 198.51.100.10/24 ', ipaddress.IPv4Interface('198.51.100.10/24')),
    ('2001:db8::10/64', ipaddress.IPv6Interface('2001:db8::10/64')),
    ('10.0.0.1/32', ipaddress.IPv4Interface('10.0.0.1/32')),
])
def test_parse_cidr_accepts(value: str, expected: object) -> None:
    assert parse_cidr(value, 'addresses') == expected


# --- destinations and tables -------------------------------------------------------

@pytest.mark.parametrize('value, family, expected', [
    ('default', None, '0.0.0.0/0'),
    ('default', 4, '0.0.0.0/0'),
    ('default', 6, '::/0'),
    ('198.51.100.0/24', None, '198.51.100.0/24'),
    ('198.51.100.7', None, '198.51.100.7/32'),
    ('2001:db8::7', None, '2001:db8::7/128'),
])
def test_parse_destination(value: str, family: t.Optional[int], expected: str) -> None:
    assert parse_destination(value, 'dst', family) == ipaddress.ip_network(expected)


def test_parse_destination_rejects_host_bits() -> None:
    with pytest.raises(TaskError, match=r'^dst: .*not "default" nor a network'):
        parse_destination('198.51.100.7/24', 'dst')


@pytest.mark.parametrize('value, expected', [
    (None, 254),
    ('main', 254),
    ('default', 253),
    ('100', 100),
    (100, 100),
    ('1', 1),
    (str(2 ** 32 - 1), 2 ** 32 - 1),
])
def test_parse_table_accepts(value: t.Any, expected: int) -> None:
    assert parse_table(value, 'table') == expected


@pytest.mark.parametrize('value, message', [
    ('local', 'local table belongs to the kernel'),
    ('255', 'local table belongs to the kernel'),
    ('0', 'out of range'),
    (str(2 ** 32), 'out of range'),
    ('-1', 'out of range'),
    ('mine', 'is not a routing table'),
])
def test_parse_table_rejects(value: str, message: str) -> None:
    with pytest.raises(TaskError) as exc:
        parse_table(value, 'table')
    assert exc.value.msg.startswith('table: ')
    assert message in exc.value.msg


# --- build_route -------------------------------------------------------------------

def route_params(**params: t.Any) -> dict[str, t.Any]:
    """Module-style route parameters, as AnsibleModule hands them over (unset ones are None)."""
    base: dict[str, t.Any] = dict(dst=None, type=None, gateway=None, dev=None, nexthops=None, family=None,
                                  metric=None, table=None, scope=None, onlink=False)
    base.update(params)
    return base


BUILD_ROUTE_OK: list[tuple[str, dict[str, t.Any], Route]] = [
    ('v4-default-via',
     route_params(dst='default', gateway='198.51.100.1'),
     Route(ipaddress.ip_network('0.0.0.0/0'), ipaddress.ip_address('198.51.100.1'), scope=SCOPES['universe'])),
    ('v6-default-via-gateway-family',
     route_params(dst='default', gateway='2001:db8::1'),
     Route(ipaddress.ip_network('::/0'), ipaddress.ip_address('2001:db8::1'), metric=1024)),
    ('v6-default-dev-family-param',
     route_params(dst='default', dev='ipvl0', family='ipv6'),
     Route(ipaddress.ip_network('::/0'), dev='ipvl0', metric=1024)),
    ('v4-dev-only-is-scope-link',
     route_params(dst='203.0.113.0/24', dev='ipvl0'),
     Route(ipaddress.ip_network('203.0.113.0/24'), dev='ipvl0', scope=SCOPES['link'])),
    ('v4-explicit-scope',
     route_params(dst='203.0.113.0/24', dev='ipvl0', scope='host'),
     Route(ipaddress.ip_network('203.0.113.0/24'), dev='ipvl0', scope=SCOPES['host'])),
    ('v6-scope-ignored',
     route_params(dst='2001:db8:1::/64', dev='ipvl0', scope='link'),
     Route(ipaddress.ip_network('2001:db8:1::/64'), dev='ipvl0', metric=1024, scope=0)),
    ('metric-given',
     route_params(dst='default', gateway='198.51.100.1', metric=100),
     Route(ipaddress.ip_network('0.0.0.0/0'), ipaddress.ip_address('198.51.100.1'), metric=100)),
    # inet6_rtm_newroute stores metric 0 as 1024: so does the model, or a second run would differ.
    ('v6-metric-zero-is-1024',
     route_params(dst='default', gateway='2001:db8::1', metric=0),
     Route(ipaddress.ip_network('::/0'), ipaddress.ip_address('2001:db8::1'), metric=1024)),
    ('table-by-name',
     route_params(dst='default', gateway='198.51.100.1', table='default'),
     Route(ipaddress.ip_network('0.0.0.0/0'), ipaddress.ip_address('198.51.100.1'), table=TABLES['default'])),
    ('table-by-number',
     route_params(dst='default', gateway='198.51.100.1', table='1000'),
     Route(ipaddress.ip_network('0.0.0.0/0'), ipaddress.ip_address('198.51.100.1'), table=1000)),
    ('onlink-with-dev',
     route_params(dst='default', gateway='192.0.2.1', dev='ipvl0', onlink=True),
     Route(ipaddress.ip_network('0.0.0.0/0'), ipaddress.ip_address('192.0.2.1'), dev='ipvl0', onlink=True)),
    ('v6-link-local-gateway-with-dev',
     route_params(dst='default', gateway='fe80::1', dev='ipvl0'),
     Route(ipaddress.ip_network('::/0'), ipaddress.ip_address('fe80::1'), dev='ipvl0', metric=1024)),
    # A zone id names the device, as dev does; the same device twice is fine.
    ('v6-zone-id-is-the-dev',
     route_params(dst='default', gateway='fe80::1%ipvl0'),
     Route(ipaddress.ip_network('::/0'), ipaddress.ip_address('fe80::1'), dev='ipvl0', metric=1024)),
    ('v6-zone-id-and-same-dev',
     route_params(dst='default', gateway='fe80::1%ipvl0', dev='ipvl0'),
     Route(ipaddress.ip_network('::/0'), ipaddress.ip_address('fe80::1'), dev='ipvl0', metric=1024)),
    ('blackhole-v4', route_params(dst='203.0.113.0/24', type='blackhole'),
     Route(ipaddress.ip_network('203.0.113.0/24'), type='blackhole')),
    ('unreachable-v6-default', route_params(dst='default', type='unreachable', family='ipv6'),
     Route(ipaddress.ip_network('::/0'), type='unreachable', metric=1024)),
    ('throw-in-a-table', route_params(dst='203.0.113.0/24', type='throw', table='100'),
     Route(ipaddress.ip_network('203.0.113.0/24'), type='throw', table=100)),
    ('multipath-v4',
     route_params(dst='203.0.113.0/24', nexthops=[dict(gateway='192.0.2.1', weight=2), dict(dev='eth1')]),
     Route(ipaddress.ip_network('203.0.113.0/24'),
           nexthops=(NextHop(ipaddress.ip_address('192.0.2.1'), weight=2), NextHop(dev='eth1')))),
    # The nexthops' gateways tell the family of "default".
    ('multipath-v6-default',
     route_params(dst='default', nexthops=[dict(gateway='2001:db8::1'), dict(gateway='fe80::2%eth1', onlink=True)]),
     Route(ipaddress.ip_network('::/0'), metric=1024,
           nexthops=(NextHop(ipaddress.ip_address('2001:db8::1')),
                     NextHop(ipaddress.ip_address('fe80::2'), dev='eth1', onlink=True)))),
    # The kernel stores a one-path multipath route as a plain route, without its weight.
    ('one-nexthop-is-a-plain-route',
     route_params(dst='203.0.113.0/24', nexthops=[dict(gateway='192.0.2.1', dev='eth0', weight=5)]),
     Route(ipaddress.ip_network('203.0.113.0/24'), ipaddress.ip_address('192.0.2.1'), dev='eth0')),
]


@pytest.mark.parametrize('params, route', [c[1:] for c in BUILD_ROUTE_OK], ids=[c[0] for c in BUILD_ROUTE_OK])
def test_build_route(params: dict[str, t.Any], route: Route) -> None:
    assert build_route(params) == route


BUILD_ROUTE_BAD: list[tuple[str, dict[str, t.Any], str]] = [
    ('gateway-family-mismatch-v4-dst', route_params(dst='198.51.100.0/24', gateway='2001:db8::1'),
     'gateway: gateway 2001:db8::1 is IPv6 but dst 198.51.100.0/24 is IPv4'),
    ('gateway-family-mismatch-v6-dst', route_params(dst='2001:db8:1::/64', gateway='198.51.100.1'),
     'gateway: gateway 198.51.100.1 is IPv4 but dst 2001:db8:1::/64 is IPv6'),
    ('gateway-not-an-ip', route_params(dst='default', gateway='router'), 'gateway: '),
    ('dst-not-a-network', route_params(dst='nowhere', dev='eth0'), 'dst: '),
    ('neither-gateway-nor-dev', route_params(dst='198.51.100.0/24'), 'gateway: a route needs a gateway, a dev'),
    ('onlink-without-dev', route_params(dst='default', gateway='192.0.2.1', onlink=True),
     'onlink: onlink needs dev'),
    ('link-local-gateway-without-dev', route_params(dst='default', gateway='fe80::1'),
     'gateway: link-local gateway fe80::1 needs dev'),
    ('bad-dev', route_params(dst='default', gateway='198.51.100.1', dev='eth0:1'), 'dev: '),
    ('metric-negative', route_params(dst='default', gateway='198.51.100.1', metric=-1), 'metric: '),
    ('metric-too-large', route_params(dst='default', gateway='198.51.100.1', metric=2 ** 32), 'metric: '),
    ('local-table', route_params(dst='default', gateway='198.51.100.1', table='local'), 'table: the local table'),
    ('family-conflicts-with-gateway', route_params(dst='default', gateway='2001:db8::1', family='ipv4'),
     'family: the gateway is IPv6 but family is ipv4'),
    ('zone-id-conflicts-with-dev', route_params(dst='default', gateway='fe80::1%eth1', dev='eth0'),
     'gateway: the zone id of fe80::1%eth1 names eth1 but dev is eth0'),
    ('zone-id-on-a-global-address', route_params(dst='default', gateway='2001:db8::1%eth0'),
     "gateway: '2001:db8::1%eth0' has a zone id, which only a link-local IPv6 address takes"),
    ('zone-id-on-ipv4', route_params(dst='default', gateway='192.0.2.1%eth0'), 'gateway: '),
    ('zone-id-not-an-ifname', route_params(dst='default', gateway='fe80::1%a/b'), 'gateway: interface name'),
    ('zone-id-in-dst', route_params(dst='fe80::%eth0/64', dev='eth0'), 'dst: '),
    ('scope-link-via-gateway', route_params(dst='203.0.113.0/24', gateway='198.51.100.1', scope='link'),
     'scope: a route via a gateway cannot have scope link'),
    ('blackhole-with-gateway', route_params(dst='203.0.113.0/24', type='blackhole', gateway='198.51.100.1'),
     'type: a blackhole route has no next hop'),
    ('prohibit-with-dev', route_params(dst='203.0.113.0/24', type='prohibit', dev='eth0'),
     'type: a prohibit route has no next hop'),
    ('nexthops-and-gateway', route_params(dst='203.0.113.0/24', gateway='192.0.2.1',
                                          nexthops=[dict(gateway='192.0.2.2')]),
     'nexthops: nexthops and gateway, dev or onlink are mutually exclusive'),
    ('nexthops-and-onlink', route_params(dst='203.0.113.0/24', onlink=True, nexthops=[dict(gateway='192.0.2.2')]),
     'nexthops: nexthops and gateway, dev or onlink are mutually exclusive'),
    ('nexthop-empty', route_params(dst='203.0.113.0/24', nexthops=[dict(gateway='192.0.2.2'), dict()]),
     'nexthops[1].gateway: a nexthop needs a gateway, a dev, or both'),
    ('nexthop-weight-zero', route_params(dst='203.0.113.0/24', nexthops=[dict(gateway='192.0.2.2', weight=0)]),
     'nexthops[0].weight: 0 is out of range (1 to 256)'),
    ('nexthop-weight-too-large',
     route_params(dst='203.0.113.0/24', nexthops=[dict(gateway='192.0.2.2', weight=257), dict(dev='eth0')]),
     'nexthops[0].weight: 257 is out of range'),
    ('nexthop-onlink-without-dev',
     route_params(dst='203.0.113.0/24', nexthops=[dict(gateway='192.0.2.2', onlink=True), dict(dev='eth0')]),
     'nexthops[0].onlink: onlink needs dev'),
    ('nexthop-link-local-without-dev', route_params(dst='default', nexthops=[dict(gateway='fe80::1')]),
     'nexthops[0].gateway: link-local gateway fe80::1 needs dev'),
    ('nexthops-mixed-families',
     route_params(dst='default', nexthops=[dict(gateway='192.0.2.2'), dict(gateway='2001:db8::2')]),
     'nexthops: the nexthops mix IPv4 and IPv6 gateways'),
    ('nexthop-family-mismatch', route_params(dst='2001:db8:1::/64', nexthops=[dict(gateway='192.0.2.2')]),
     'nexthops: gateway 192.0.2.2 is IPv4 but dst 2001:db8:1::/64 is IPv6'),
    ('v6-nexthop-without-gateway',
     route_params(dst='2001:db8:1::/64', nexthops=[dict(gateway='2001:db8::2'), dict(dev='eth0')]),
     'nexthops: IPv6 multipath routes need a gateway in each nexthop'),
    # rt6_duplicate_nexthop: one gateway and one device are one path, whatever the weight or onlink.
    ('v6-nexthop-twice',
     route_params(dst='2001:db8:1::/64', nexthops=[dict(gateway='2001:db8::2', dev='eth0'),
                                                   dict(gateway='fe80::1%eth0'),
                                                   dict(gateway='2001:db8::2', dev='eth0', weight=2, onlink=True)]),
     'nexthops[2]: gateway 2001:db8::2 dev eth0 is the path of nexthops[0] again'),
    ('v6-nexthop-twice-without-dev',
     route_params(dst='default', nexthops=[dict(gateway='2001:db8::2'), dict(gateway='2001:db8::2', weight=3)]),
     'nexthops[1]: gateway 2001:db8::2 is the path of nexthops[0] again'),
    ('v6-nexthop-twice-zone-id-and-dev',
     route_params(dst='default', nexthops=[dict(gateway='fe80::1%eth0'), dict(gateway='fe80::1', dev='eth0')]),
     'nexthops[1]: gateway fe80::1 dev eth0 is the path of nexthops[0] again'),
]


@pytest.mark.parametrize('params, message', [c[1:] for c in BUILD_ROUTE_BAD], ids=[c[0] for c in BUILD_ROUTE_BAD])
def test_build_route_rejects(params: dict[str, t.Any], message: str) -> None:
    with pytest.raises(TaskError) as exc:
        build_route(params)
    assert exc.value.msg.startswith(message)


def test_ipv4_takes_a_path_twice() -> None:
    # fib_create_info keeps every nexthop it is given: a path named twice has twice its share.
    hops = [dict(gateway='192.0.2.2', dev='eth0'), dict(gateway='192.0.2.2', dev='eth0')]
    assert build_route(route_params(dst='203.0.113.0/24', nexthops=hops)).nexthops == (
        NextHop(ipaddress.ip_address('192.0.2.2'), 'eth0'),) * 2


def test_build_route_to_remove_needs_no_next_hop() -> None:
    # A pattern: without a type given, a route of any type matches.
    assert build_route(route_params(dst='198.51.100.0/24'), present=False) == Route(
        ipaddress.ip_network('198.51.100.0/24'), scope=SCOPES['link'], type=None)


def test_two_routes_with_one_key_are_refused_naming_both() -> None:
    routes = [build_route(route_params(dst='default', gateway='198.51.100.1')),
              build_route(route_params(dst='203.0.113.0/24', dev='eth0')),
              build_route(route_params(dst='0.0.0.0/0', type='blackhole'))]
    with pytest.raises(TaskError) as exc:
        check_unique_routes(routes, 'namespaces[0].routes')
    assert exc.value.msg == (
        'namespaces[0].routes[2]: blackhole default has the destination, table and metric of '
        'namespaces[0].routes[0] (default via 198.51.100.1); the kernel keeps one route per destination, '
        'table and metric: declare one of them')
    # Another metric, table or family is another key; IPv6 metric 0 and 1024 are one.
    check_unique_routes(routes[:2] + [build_route(route_params(dst='default', gateway='198.51.100.1', metric=5)),
                                      build_route(route_params(dst='default', gateway='198.51.100.1', table='9')),
                                      build_route(route_params(dst='default', gateway='2001:db8::1'))], 'routes')
    with pytest.raises(TaskError, match=r'^routes\[1\]: '):
        check_unique_routes([build_route(route_params(dst='default', gateway='2001:db8::1')),
                             build_route(route_params(dst='::/0', gateway='2001:db8::2', metric=0))], 'routes')


def test_build_route_prefixes_parameter_names() -> None:
    with pytest.raises(TaskError, match=r'^routes\[1\]\.onlink: '):
        build_route(route_params(dst='default', gateway='192.0.2.1', onlink=True), prefix='routes[1].')


# --- check_ipvlan ------------------------------------------------------------------

def ipvlan_params(**params: t.Any) -> dict[str, t.Any]:
    base: dict[str, t.Any] = dict(name='ipvl0', master='eth0', master_netns=None, netns=None, mode='l3',
                                  flags='bridge', mtu=None, admin_state=None)
    base.update(params)
    return base


def test_check_ipvlan_returns_namespace_and_spec_fields() -> None:
    netns, fields = check_ipvlan(ipvlan_params(netns='ns0', mode='l2', flags='private', mtu=1400,
                                               admin_state='up'))
    assert netns == 'ns0'
    assert fields == dict(name='ipvl0', master='eth0', master_netns=None, mode='l2', flags='private',
                          mtu=1400, up=True)


@pytest.mark.parametrize('admin_state, up', [(None, None), ('up', True), ('down', False)])
def test_check_ipvlan_admin_state(admin_state: t.Optional[str], up: t.Optional[bool]) -> None:
    assert check_ipvlan(ipvlan_params(admin_state=admin_state))[1]['up'] is up


CHECK_IPVLAN_BAD: list[tuple[str, dict[str, t.Any], str]] = [
    ('master-is-name', ipvlan_params(master='ipvl0'), 'master: an ipvlan cannot be its own master'),
    ('master-is-name-in-ns', ipvlan_params(master='ipvl0', netns='ns0', master_netns='ns0'),
     'master: an ipvlan cannot be its own master'),
    ('name-too-long', ipvlan_params(name='ipvlan-too-long0'), 'name: '),
    ('master-invalid', ipvlan_params(master='eth 0'), 'master: '),
    ('master-empty', ipvlan_params(master=''), 'master: '),
    ('netns-invalid', ipvlan_params(netns='..'), 'netns: '),
    ('master-netns-invalid', ipvlan_params(master_netns='a/b'), 'master_netns: '),
    ('mtu', ipvlan_params(mtu=10), 'mtu: '),
]


@pytest.mark.parametrize('params, message', [c[1:] for c in CHECK_IPVLAN_BAD], ids=[c[0] for c in CHECK_IPVLAN_BAD])
def test_check_ipvlan_rejects(params: dict[str, t.Any], message: str) -> None:
    with pytest.raises(TaskError) as exc:
        check_ipvlan(params)
    assert exc.value.msg.startswith(message)


def test_check_ipvlan_same_name_as_master_in_another_namespace_is_allowed() -> None:
    # ipvl0 in ns0 on the root namespace's ipvl0 is odd but legal: two different links.
    netns, fields = check_ipvlan(ipvlan_params(master='ipvl0', netns='ns0'))
    assert (netns, fields['master']) == ('ns0', 'ipvl0')


def test_check_ipvlan_prefix() -> None:
    with pytest.raises(TaskError, match=r'^namespaces\[0\]\.ipvlans\[1\]\.name: '):
        check_ipvlan(ipvlan_params(name='x' * 16), prefix='namespaces[0].ipvlans[1].')
