# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Route identity as the kernel has it, and what the kernel does to routes when links and addresses change.

Each rule here was watched on the host kernel first (tests/integration/test_route.py proves it there
through the modules). Every plan is also re-planned against its own prediction: a prediction the
planner itself would not accept as done could never survive verify-after-apply.
"""

from __future__ import annotations

import ipaddress
import typing as t
from dataclasses import replace

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._actions import (
    AddAddress,
    AddRoute,
    DeleteAddress,
    DeleteLink,
    DeleteRoute,
    ReplaceRoute,
    SetLink,
    _route_kwargs,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import SCOPES
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    ROOT,
    Address,
    AddressesSpec,
    Link,
    LinkSpec,
    Namespace,
    NamespaceSpec,
    NextHop,
    Route,
    RouteSpec,
    World,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._planner import Plan, plan

ip = ipaddress.ip_interface
net = ipaddress.ip_network
addr = ipaddress.ip_address

LINK = SCOPES['link']
KERNEL = 2
DEFAULT4 = net('0.0.0.0/0')
GW = addr('198.51.100.1')
GW6 = addr('2001:db8::1')


def ns0(*routes: Route, addresses: t.Optional[list[Address]] = None, up: bool = True) -> Namespace:
    """eth0 (198.51.100.2/24, 2001:db8::2/64) and eth1 (192.0.2.2/24), both up, with their prefix routes."""
    if addresses is None:
        addresses = [Address('eth0', ip('198.51.100.2/24')), Address('eth0', ip('2001:db8::2/64')),
                     Address('eth1', ip('192.0.2.2/24'))]
    links = {'lo': Link('lo', ifindex=1, up=True, mtu=65536),
             'eth0': Link('eth0', ifindex=2, kind='veth', up=up),
             'eth1': Link('eth1', ifindex=3, kind='veth', up=True)}
    namespace = Namespace('ns0', links=links, addresses=list(addresses))
    for address in addresses:
        namespace.add_connected(address)
    namespace.routes += list(routes)
    return namespace


def connected(cidr: str, dev: str = 'eth0') -> Route:
    interface = ip(cidr)
    if interface.version == 6:
        return Route(interface.network, dev=dev, metric=256, proto=KERNEL)
    return Route(interface.network, dev=dev, scope=LINK, proto=KERNEL, prefsrc=interface.ip)


def routes_plan(current: Namespace, *wanted: RouteSpec, **options: t.Any) -> Plan:
    return checked_plan([NamespaceSpec('ns0', routes=wanted, **options)], current)


def checked_plan(specs: list[NamespaceSpec], current: Namespace) -> Plan:
    """Plan, and plan again against the prediction: nothing may be left to do."""
    the_plan = plan(specs, World(namespaces={ROOT: Namespace(ROOT), 'ns0': current}))
    again = plan(specs, the_plan.after)
    assert again.describe() == [], 'the prediction does not satisfy the plan itself'
    return the_plan


def present(route: Route) -> RouteSpec:
    return RouteSpec(route)


def absent(route: Route) -> RouteSpec:
    return RouteSpec(replace(route, type=route.type if route.type != 'unicast' else None), present=False)


def after_routes(the_plan: Plan) -> list[str]:
    return sorted(r.render() for r in the_plan.after.get('ns0').routes)


# --- routes the kernel made ------------------------------------------------------------

def test_the_prefix_route_of_an_address_satisfies_the_same_route_declared() -> None:
    # Declaring what the kernel made is no EEXIST and no change.
    assert routes_plan(ns0(), present(Route(net('198.51.100.0/24'), dev='eth0', scope=LINK))).actions == []
    assert routes_plan(ns0(), present(Route(net('198.51.100.0/24'), dev='eth0', scope=LINK)),
                       purge_routes=True).actions == []


def test_a_declared_route_replaces_the_kernel_route_with_its_key() -> None:
    wanted = Route(net('198.51.100.0/24'), dev='eth1', scope=LINK)
    the_plan = routes_plan(ns0(), present(wanted))
    assert the_plan.actions == [ReplaceRoute('ns0', old=connected('198.51.100.2/24'), route=wanted)]
    assert the_plan.describe() == ['replace route 198.51.100.0/24 dev eth0 proto kernel scope link src 198.51.100.2 '
                                   'with 198.51.100.0/24 dev eth1 scope link in namespace ns0']


def test_purge_leaves_the_kernels_routes_and_removes_every_other_kind() -> None:
    others = [Route(net('203.0.113.0/24'), type='blackhole'),
              Route(net('203.0.113.0/25'), type='unreachable', metric=5),
              Route(net('2001:db8:5::/48'), dev='lo', type='prohibit', metric=1024),
              Route(net('203.0.113.128/25'), type='throw', table=100),
              Route(net('198.18.0.0/24'), nexthops=(NextHop(GW, 'eth0'), NextHop(addr('192.0.2.1'), 'eth1'))),
              Route(net('198.18.1.0/24'), GW, dev='eth0', proto=3, table=1000),
              Route(net('198.18.2.0/24'), dev='lo', type='local', scope=SCOPES['host'])]
    kernel = [connected('198.51.100.2/24'), connected('2001:db8::2/64'), connected('192.0.2.2/24', 'eth1'),
              Route(net('fe80::/64'), dev='eth0', metric=256, proto=KERNEL),
              Route(net('2001:db8:9::/64'), GW6, dev='eth0', metric=1024, proto=9)]
    current = ns0(*others, kernel[-2], kernel[-1])
    the_plan = routes_plan(current, present(Route(DEFAULT4, GW)), purge_routes=True)
    assert the_plan.actions == [AddRoute('ns0', route=Route(DEFAULT4, GW, dev='eth0'))] + [
        DeleteRoute('ns0', route=r) for r in others]
    assert sorted(the_plan.after.get('ns0').routes, key=Route.render) == sorted(
        kernel + [Route(DEFAULT4, GW, dev='eth0')], key=Route.render)


# --- types and multipath ---------------------------------------------------------------

def test_a_blackhole_replaces_the_unicast_route_with_its_key_and_back() -> None:
    unicast = Route(net('203.0.113.0/24'), GW, dev='eth0')
    blackhole = Route(net('203.0.113.0/24'), type='blackhole')
    assert routes_plan(ns0(unicast), present(blackhole)).actions == [ReplaceRoute('ns0', old=unicast, route=blackhole)]
    assert routes_plan(ns0(blackhole), present(Route(net('203.0.113.0/24'), GW))).actions == [
        ReplaceRoute('ns0', old=blackhole, route=unicast)]
    assert routes_plan(ns0(blackhole), present(blackhole)).actions == []


def test_an_ipv6_reject_route_is_predicted_on_lo() -> None:
    wanted = Route(net('2001:db8:5::/48'), type='unreachable', metric=1024)
    the_plan = routes_plan(ns0(), present(wanted))
    assert the_plan.actions == [AddRoute('ns0', route=replace(wanted, dev='lo'))]
    assert routes_plan(ns0(replace(wanted, dev='lo')), present(wanted)).actions == []


MULTIPATH = Route(net('203.0.113.0/24'), nexthops=(NextHop(GW, 'eth0', weight=2), NextHop(addr('192.0.2.1'), 'eth1')))


@pytest.mark.parametrize('wanted', [
    MULTIPATH,
    replace(MULTIPATH, nexthops=MULTIPATH.nexthops[::-1]),
    replace(MULTIPATH, nexthops=(NextHop(GW, weight=2), NextHop(addr('192.0.2.1')))),
], ids=['same', 'other-order', 'devs-left-to-the-kernel'])
def test_multipath_satisfied(wanted: Route) -> None:
    assert routes_plan(ns0(MULTIPATH), present(wanted)).actions == []


@pytest.mark.parametrize('wanted', [
    replace(MULTIPATH, nexthops=(NextHop(GW, 'eth0'), NextHop(addr('192.0.2.1'), 'eth1'))),
    replace(MULTIPATH, nexthops=(NextHop(GW, 'eth0', weight=2), NextHop(addr('192.0.2.9'), 'eth1'))),
    replace(MULTIPATH, nexthops=MULTIPATH.nexthops + (NextHop(addr('192.0.2.9'), 'eth1'),)),
    Route(net('203.0.113.0/24'), GW, dev='eth0'),
], ids=['weight', 'gateway', 'one-more-path', 'single-path'])
def test_multipath_replaced(wanted: Route) -> None:
    the_plan = routes_plan(ns0(MULTIPATH), present(wanted))
    assert [type(a) for a in the_plan.actions] == [ReplaceRoute]


def test_multipath_devs_are_the_ones_the_kernel_picks() -> None:
    wanted = replace(MULTIPATH, nexthops=(NextHop(GW, weight=2), NextHop(addr('192.0.2.1'))))
    assert routes_plan(ns0(), present(wanted)).actions == [AddRoute('ns0', route=MULTIPATH)]


def test_multipath_through_a_down_link_fails() -> None:
    with pytest.raises(TaskError, match=r'^dev: eth0 in namespace ns0 is down'):
        routes_plan(ns0(up=False), present(MULTIPATH))


# --- one path twice -------------------------------------------------------------------

TWICE4 = Route(net('203.0.113.0/24'), nexthops=(NextHop(GW, 'eth0'), NextHop(GW, 'eth0')))


def test_ipv4_keeps_a_path_named_twice() -> None:
    # fib_create_info keeps both: the path has two shares of the traffic, and reads back as given.
    assert routes_plan(ns0(), present(replace(TWICE4, nexthops=(NextHop(GW), NextHop(GW, 'eth0'))))).actions == [
        AddRoute('ns0', route=TWICE4)]
    assert routes_plan(ns0(TWICE4), present(TWICE4)).actions == []
    once = replace(TWICE4, nexthops=(NextHop(GW, 'eth0'), NextHop(addr('192.0.2.1'), 'eth1')))
    assert [type(a) for a in routes_plan(ns0(TWICE4), present(once)).actions] == [ReplaceRoute]
    assert routes_plan(ns0(TWICE4), absent(TWICE4)).actions == [DeleteRoute('ns0', route=TWICE4)]


def test_an_ipv6_path_twice_through_the_device_the_kernel_picks_is_refused() -> None:
    # The parameters tell the two apart (one has no dev); the kernel gives it eth0: EEXIST.
    wanted = Route(net('2001:db8:5::/64'), metric=1024, nexthops=(NextHop(GW6), NextHop(GW6, 'eth0', weight=2)))
    with pytest.raises(TaskError, match=r'^nexthops: nexthops\[1\] reaches gateway 2001:db8::1 through eth0 in '
                                        r'namespace ns0, the path of nexthops\[0\]; .*EEXIST'):
        routes_plan(ns0(), present(wanted))


# --- an IPv6 onlink gateway: ip6_route_check_nh_onlink -------------------------------------

GW6_FAR = addr('2001:db8:9::1')   # covered by no prefix route of ns0


def onlink6(gateway: t.Any, dev: str, table: int = 254) -> Route:
    return Route(net('2001:db8:5::/64'), gateway, dev=dev, metric=1024, onlink=True, table=table)


ONLINK6: list[tuple[str, list[Route], Route, t.Optional[str]]] = [
    ('covered-through-another-dev', [], onlink6(GW6, 'eth1'),
     'gateway: 2001:db8::1 is covered in namespace ns0 by 2001:db8::/64 dev eth0 proto kernel metric 256, which the '
     'kernel finds for it in the main table: a route through eth0, not eth1; '),
    ('covered-through-its-dev', [], onlink6(GW6, 'eth0'), None),
    ('another-table-is-looked-up-in-main', [], onlink6(GW6, 'eth1', table=100), 'gateway: 2001:db8::1 is covered'),
    ('a-longer-prefix-through-its-dev', [Route(net('2001:db8::/80'), dev='eth1', metric=1024)],
     onlink6(GW6, 'eth1'), None),
    ('a-longer-reject-route', [Route(net('2001:db8::/80'), dev='lo', metric=1024, type='blackhole')],
     onlink6(GW6, 'eth1'), None),
    ('a-lower-metric-wins', [Route(net('2001:db8::/64'), dev='eth1', metric=1024)], onlink6(GW6, 'eth1'),
     'gateway: 2001:db8::1 is covered'),
    ('a-multipath-route-with-a-path-through-its-dev',
     [Route(net('2001:db8:9::/64'), metric=1024, nexthops=(NextHop(addr('fe80::1'), 'eth0'),
                                                           NextHop(addr('fe80::1'), 'eth1')))],
     onlink6(GW6_FAR, 'eth1'), None),
    ('the-default-route-does-not-count', [Route(net('::/0'), dev='eth0', metric=1024)], onlink6(GW6_FAR, 'eth1'),
     None),
    ('nor-any-route-to-a-prefix-of-zeros', [Route(net('::/1'), dev='eth0', metric=1024)], onlink6(GW6_FAR, 'eth1'),
     None),
    ('a-wide-prefix-does', [Route(net('2000::/3'), dev='eth0', metric=1024)], onlink6(GW6_FAR, 'eth1'),
     'gateway: 2001:db8:9::1 is covered'),
    ('another-table-does-not', [Route(net('2001:db8:9::/64'), dev='eth0', metric=1024, table=100)],
     onlink6(GW6_FAR, 'eth1', table=100), None),
    ('a-local-route-through-its-dev', [Route(net('2001:db8:9::/64'), dev='eth1', metric=1024, type='local')],
     onlink6(GW6_FAR, 'eth1'), 'gateway: 2001:db8:9::1 is covered in namespace ns0 by local 2001:db8:9::/64'),
    ('a-link-local-gateway-is-not-looked-up', [Route(net('fe80::/64'), dev='eth0', metric=256, proto=KERNEL)],
     onlink6(addr('fe80::1'), 'eth1'), None),
]


@pytest.mark.parametrize('routes, wanted, refused', [c[1:] for c in ONLINK6], ids=[c[0] for c in ONLINK6])
def test_an_ipv6_onlink_gateway_is_refused_where_the_kernel_refuses_it(
        routes: list[Route], wanted: Route, refused: t.Optional[str]) -> None:
    if refused is None:
        assert routes_plan(ns0(*routes), present(wanted)).actions == [AddRoute('ns0', route=wanted)]
        return
    with pytest.raises(TaskError) as exc:
        routes_plan(ns0(*routes), present(wanted))
    assert exc.value.msg.startswith(refused) and 'device mismatch' in exc.value.msg


def test_an_ipv6_onlink_gateway_is_looked_up_in_the_routes_the_plan_leaves() -> None:
    # An address added earlier in the plan brings a prefix route that covers the gateway; one
    # deleted takes its prefix route, and the gateway is free for another device.
    added = NamespaceSpec('ns0', addresses=(AddressesSpec('eth1', (ip('2001:db8:9::2/64'),)),),
                          routes=(present(onlink6(GW6_FAR, 'eth0')),))
    with pytest.raises(TaskError, match=r'^gateway: 2001:db8:9::1 is covered .* through eth1, not eth0'):
        checked_plan([added], ns0())
    deleted = NamespaceSpec('ns0', addresses=(AddressesSpec('eth0', (ip('2001:db8::2/64'),), present=False),),
                            routes=(present(onlink6(GW6, 'eth1')),))
    assert [type(a) for a in checked_plan([deleted], ns0()).actions] == [DeleteAddress, AddRoute]


ABSENT: list[tuple[str, Route, bool]] = [
    ('any-route-of-the-key', Route(net('203.0.113.0/24'), type=None), True),
    ('its-type', Route(net('203.0.113.0/24'), type='unicast'), True),
    ('another-type', Route(net('203.0.113.0/24'), type='blackhole'), False),
    ('its-paths', replace(MULTIPATH, type=None, nexthops=MULTIPATH.nexthops[::-1]), True),
    ('other-paths', replace(MULTIPATH, type=None, nexthops=(NextHop(GW, 'eth0'), NextHop(GW, 'eth1'))), False),
    # A gateway or dev names a single-path route: a multipath one through it stays.
    ('a-gateway-of-it', Route(net('203.0.113.0/24'), GW, type=None), False),
]


@pytest.mark.parametrize('pattern, removed', [c[1:] for c in ABSENT], ids=[c[0] for c in ABSENT])
def test_absent_multipath(pattern: Route, removed: bool) -> None:
    the_plan = routes_plan(ns0(MULTIPATH), RouteSpec(pattern, present=False))
    assert the_plan.actions == ([DeleteRoute('ns0', route=MULTIPATH)] if removed else [])


def test_absent_dev_must_match() -> None:
    route = Route(net('203.0.113.0/24'), GW, dev='eth0')
    assert routes_plan(ns0(route), absent(Route(net('203.0.113.0/24'), dev='eth1'))).actions == []
    assert routes_plan(ns0(route), absent(Route(net('203.0.113.0/24'), dev='eth0'))).actions == [
        DeleteRoute('ns0', route=route)]


def test_absent_removes_a_kernel_route_as_ip_route_del_does() -> None:
    the_plan = routes_plan(ns0(), absent(Route(net('198.51.100.0/24'))))
    assert the_plan.actions == [DeleteRoute('ns0', route=connected('198.51.100.2/24'))]


# --- routes of one key (ip route append) ---------------------------------------------------

def test_an_appended_route_that_satisfies_loses_the_one_ahead_of_it() -> None:
    # IPv4 keeps aliases of one key in order and uses the first; a replace would overwrite the first
    # and then meet the identical one behind it (EEXIST): the one ahead goes instead.
    ahead = Route(net('203.0.113.0/24'), addr('198.51.100.9'), dev='eth0')
    wanted = Route(net('203.0.113.0/24'), GW, dev='eth0')
    the_plan = routes_plan(ns0(ahead, wanted), present(wanted))
    assert the_plan.actions == [DeleteRoute('ns0', route=ahead)]


def test_purge_removes_the_other_routes_of_a_declared_key() -> None:
    first = Route(net('203.0.113.0/24'), GW, dev='eth0')
    appended = Route(net('203.0.113.0/24'), addr('198.51.100.9'), dev='eth0')
    the_plan = routes_plan(ns0(first, appended), present(first), purge_routes=True)
    assert the_plan.actions == [DeleteRoute('ns0', route=appended)]


def test_ipv6_replace_takes_the_route_that_can_be_its_sibling() -> None:
    # fib6_add_rt2node: a replace overwrites the first route of the metric whose ECMP ability
    # (a gateway, not from a router advertisement) is the new route's.
    dev_route = Route(net('2001:db8:5::/48'), dev='eth0', metric=1024)
    via = Route(net('2001:db8:5::/48'), addr('2001:db8::9'), dev='eth0', metric=1024)
    wanted = Route(net('2001:db8:5::/48'), GW6, dev='eth0', metric=1024)
    assert routes_plan(ns0(dev_route, via), present(wanted)).actions == [ReplaceRoute('ns0', old=via, route=wanted)]
    assert routes_plan(ns0(dev_route), present(wanted)).actions == [
        ReplaceRoute('ns0', old=dev_route, route=wanted)]


# --- the identity a deletion sends -------------------------------------------------------------

class Indexes:
    """A session that only resolves link names (the kwargs need no kernel)."""

    def ifindex(self, netns: t.Optional[str], name: str) -> int:
        return {'lo': 1, 'eth0': 2, 'eth1': 3}[name]


@pytest.mark.parametrize('route, expected', [
    # scope link: pyroute2's default (universe) would miss it and the kernel answer ESRCH.
    (connected('198.51.100.2/24'),
     dict(dst='198.51.100.0', dst_len=24, family=2, table=254, priority=0, tos=0, proto=2, scope=253, type=1,
          oif=2, prefsrc='198.51.100.2')),
    (Route(net('203.0.113.0/24'), type='blackhole', metric=7),
     dict(dst='203.0.113.0', dst_len=24, family=2, table=254, priority=7, tos=0, proto=4, scope=0, type=6)),
    (Route(net('2001:db8:5::/48'), dev='lo', type='prohibit', metric=1024),
     dict(dst='2001:db8:5::', dst_len=48, family=10, table=254, priority=1024, tos=0, proto=4, scope=0, type=8,
          oif=1)),
    (MULTIPATH,
     dict(dst='203.0.113.0', dst_len=24, family=2, table=254, priority=0, tos=0, proto=4, scope=0, type=1,
          multipath=[dict(gateway='198.51.100.1', oif=2, hops=1), dict(gateway='192.0.2.1', oif=3, hops=0)])),
    (Route(DEFAULT4, GW, dev='eth0', onlink=True, table=1000, tos=0x10),
     dict(dst='0.0.0.0', dst_len=0, family=2, table=1000, priority=0, tos=0x10, proto=4, scope=0, type=1,
          gateway='198.51.100.1', oif=2, flags=4)),
    (Route(net('203.0.113.0/24'), addr('fe80::1'), dev='eth0'),
     dict(dst='203.0.113.0', dst_len=24, family=2, table=254, priority=0, tos=0, proto=4, scope=0, type=1,
          via={'family': 10, 'addr': 'fe80::1'}, oif=2)),
], ids=['kernel-scope-link', 'blackhole', 'v6-prohibit-on-lo', 'multipath', 'onlink-table-tos', 'v4-via-inet6'])
def test_the_whole_identity_is_sent(route: Route, expected: dict[str, t.Any]) -> None:
    assert _route_kwargs(Indexes(), 'ns0', route) == expected


# --- what address and link changes do to routes ---------------------------------------------

def test_an_address_added_brings_its_prefix_route() -> None:
    current = ns0(addresses=[])
    spec = NamespaceSpec('ns0', addresses=(AddressesSpec('eth0', (ip('198.51.100.2/24'), ip('198.51.100.3/24'),
                                                                  ip('198.51.100.4/32'), ip('2001:db8::2/64'),
                                                                  ip('2001:db8:1::2/128'))),),
                         routes=(RouteSpec(Route(net('198.51.100.0/24'), dev='eth0', scope=LINK)),))
    the_plan = checked_plan([spec], current)
    # The declared route is the one the address brings: nothing to add (no EEXIST).
    assert [type(a) for a in the_plan.actions] == [AddAddress] * 5
    assert after_routes(the_plan) == ['198.51.100.0/24 dev eth0 proto kernel scope link src 198.51.100.2',
                                      '2001:db8:1::2/128 dev eth0 proto kernel metric 256',
                                      '2001:db8::/64 dev eth0 proto kernel metric 256']
    # The second address of the subnet is its secondary.
    assert [a.secondary for a in the_plan.after.get('ns0').addresses_of('eth0')] == [False, True, False, False, False]


def test_an_address_on_a_down_link_brings_no_route_until_the_link_is_up() -> None:
    spec = NamespaceSpec('ns0', addresses=(AddressesSpec('eth0', (ip('198.51.100.2/24'), ip('2001:db8::2/64'))),))
    assert after_routes(checked_plan([spec], ns0(addresses=[], up=False))) == []
    up = NamespaceSpec('ns0', links=(LinkSpec('eth0', up=True),))
    assert after_routes(checked_plan([up], ns0(up=False))) == [
        '192.0.2.0/24 dev eth1 proto kernel scope link src 192.0.2.2',
        '198.51.100.0/24 dev eth0 proto kernel scope link src 198.51.100.2',
        '2001:db8::/64 dev eth0 proto kernel metric 256']


def delete_address(current: Namespace, cidr: str, dev: str = 'eth0') -> list[str]:
    the_plan = checked_plan([NamespaceSpec('ns0', addresses=(AddressesSpec(dev, (ip(cidr),), present=False),))],
                            current)
    assert the_plan.actions == [DeleteAddress('ns0', dev=dev, ip=ip(cidr))]
    return after_routes(the_plan)


def test_deleting_an_ipv4_address_that_is_not_the_last_one() -> None:
    current = ns0(Route(net('198.18.0.0/24'), GW, dev='eth0'),                                        # stays
                  Route(net('198.18.1.0/24'), dev='eth1', scope=LINK, prefsrc=addr('198.51.100.2')),   # goes
                  Route(net('198.18.2.0/24'), addr('192.0.2.1'), dev='eth1', table=100,
                        prefsrc=addr('198.51.100.2')),                                                 # stays
                  addresses=[Address('eth0', ip('198.51.100.2/24')), Address('eth0', ip('203.0.113.2/24')),
                             Address('eth1', ip('192.0.2.2/24'))])
    assert delete_address(current, '198.51.100.2/24') == [
        '192.0.2.0/24 dev eth1 proto kernel scope link src 192.0.2.2',
        '198.18.0.0/24 via 198.51.100.1 dev eth0',
        '198.18.2.0/24 via 192.0.2.1 dev eth1 table 100 src 198.51.100.2',
        '203.0.113.0/24 dev eth0 proto kernel scope link src 203.0.113.2']


def test_deleting_the_last_ipv4_address_of_a_link_flushes_its_ipv4_routes() -> None:
    partly = Route(net('198.18.3.0/24'), nexthops=(NextHop(GW, 'eth0'), NextHop(addr('192.0.2.1'), 'eth1')))
    current = ns0(Route(net('198.18.0.0/24'), GW, dev='eth0', table=100),
                  Route(net('198.18.1.0/24'), nexthops=(NextHop(GW, 'eth0'), NextHop(addr('198.51.100.9'), 'eth0'))),
                  partly, Route(net('198.18.4.0/24'), type='blackhole'),
                  Route(net('2001:db8:5::/48'), GW6, dev='eth0', metric=1024))
    assert delete_address(current, '198.51.100.2/24') == sorted([
        '192.0.2.0/24 dev eth1 proto kernel scope link src 192.0.2.2', partly.render(),
        'blackhole 198.18.4.0/24', '2001:db8:5::/48 via 2001:db8::1 dev eth0 metric 1024',
        '2001:db8::/64 dev eth0 proto kernel metric 256'])


def test_deleting_an_ipv4_secondary_keeps_the_prefix_route() -> None:
    current = ns0(addresses=[Address('eth0', ip('198.51.100.2/24')),
                             Address('eth0', ip('198.51.100.3/24'), secondary=True)])
    assert delete_address(current, '198.51.100.3/24') == [
        '198.51.100.0/24 dev eth0 proto kernel scope link src 198.51.100.2']


def test_deleting_an_ipv6_address_takes_the_prefix_route_with_the_last_of_the_prefix() -> None:
    current = ns0(Route(net('2001:db8:5::/48'), addr('2001:db8::9'), dev='eth0', metric=1024),
                  addresses=[Address('eth0', ip('2001:db8::2/64')), Address('eth0', ip('2001:db8::3/64'))])
    assert delete_address(current, '2001:db8::2/64') == [
        '2001:db8:5::/48 via 2001:db8::9 dev eth0 metric 1024', '2001:db8::/64 dev eth0 proto kernel metric 256']
    current.addresses.pop()
    assert delete_address(current, '2001:db8::2/64') == ['2001:db8:5::/48 via 2001:db8::9 dev eth0 metric 1024']


def test_link_down_flushes_its_routes_but_a_multipath_route_with_another_path_stays() -> None:
    partly = Route(net('198.18.3.0/24'), nexthops=(NextHop(GW, 'eth0'), NextHop(addr('192.0.2.1'), 'eth1')))
    current = ns0(partly, Route(net('198.18.4.0/24'), GW, dev='eth0'),
                  Route(net('2001:db8:5::/48'), metric=1024, nexthops=(NextHop(GW6, 'eth0'),
                                                                       NextHop(addr('2001:db8::9'), 'eth0'))))
    the_plan = checked_plan([NamespaceSpec('ns0', links=(LinkSpec('eth0', up=False),))], current)
    assert the_plan.actions == [SetLink('ns0', name='eth0', up=False)]
    assert after_routes(the_plan) == ['192.0.2.0/24 dev eth1 proto kernel scope link src 192.0.2.2', partly.render()]


def test_link_down_leaves_the_routes_through_other_links_that_are_down() -> None:
    """Found by the property tests: a route through lo, which was down already, was predicted gone when
    eth1 went down (all its paths dead), though it has no path through eth1: the kernel keeps it."""
    through_lo = Route(net('203.0.113.0/24'), dev='lo', table=253, metric=10, scope=SCOPES['host'])
    current = ns0(through_lo)
    current.links['lo'] = replace(current.links['lo'], up=False)
    the_plan = checked_plan([NamespaceSpec('ns0', links=(LinkSpec('eth1', up=False),))], current)
    assert through_lo.render() in after_routes(the_plan)


def test_a_deleted_link_takes_ipv4_routes_through_it_and_ipv6_siblings_through_it() -> None:
    current = ns0(Route(net('198.18.3.0/24'), nexthops=(NextHop(GW, 'eth0'), NextHop(addr('192.0.2.1'), 'eth1'))),
                  Route(net('2001:db8:5::/48'), metric=1024, nexthops=(NextHop(GW6, 'eth0'),
                                                                       NextHop(addr('fe80::9'), 'eth1'))),
                  Route(net('2001:db8:6::/48'), metric=1024, nexthops=(NextHop(GW6, 'eth0'),
                                                                       NextHop(addr('fe80::9'), 'eth1'),
                                                                       NextHop(addr('fe80::8'), 'eth1'))))
    world = World(namespaces={'ns0': current})
    after = world.copy()
    DeleteLink('ns0', name='eth0').predict(after)
    assert sorted(r.render() for r in after.get('ns0').routes) == [
        '192.0.2.0/24 dev eth1 proto kernel scope link src 192.0.2.2',
        '2001:db8:5::/48 via fe80::9 dev eth1 metric 1024',
        '2001:db8:6::/48 metric 1024 nexthop via fe80::9 dev eth1 nexthop via fe80::8 dev eth1']


# --- a deletion the kernel answers with ESRCH --------------------------------------------------
# A fault the host cannot be made to show on purpose (it needs a wrong identity or a race): a fake
# socket answers ESRCH, and the re-read decides.

class RefusingSocket:
    def route(self, command: str, **kwargs: t.Any) -> None:
        from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import NetlinkError

        assert command == 'del'
        raise NetlinkError(3, 'No such process')

    def links(self) -> list[t.Any]:
        return []


class RefusingSession(Indexes):
    def ipr(self, netns: t.Optional[str]) -> RefusingSocket:
        return RefusingSocket()

    def reader(self, netns: t.Optional[str]) -> RefusingSocket:
        return RefusingSocket()


@pytest.mark.parametrize('still_there', [False, True], ids=['gone-meanwhile', 'still-there'])
def test_esrch_is_done_only_when_a_fresh_read_agrees(monkeypatch: pytest.MonkeyPatch, still_there: bool) -> None:
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils import _actions, _pyroute2

    if not _pyroute2.HAS_PYROUTE2:
        pytest.skip('NetlinkError comes from pyroute2')
    route = connected('198.51.100.2/24')
    monkeypatch.setattr(_actions, 'read_routes', lambda ipr, names, family: [route] if still_there else [])
    action = DeleteRoute('ns0', route=route)
    if still_there:
        with pytest.raises(TaskError, match=r'^the kernel did not delete route 198\.51\.100\.0/24 dev eth0 '):
            action.apply(RefusingSession())
    else:
        action.apply(RefusingSession())


def test_a_deleted_link_takes_its_addresses_and_the_routes_preferring_them() -> None:
    elsewhere = Route(net('198.18.1.0/24'), dev='eth1', scope=LINK, prefsrc=addr('198.51.100.2'))
    world = World(namespaces={'ns0': ns0(elsewhere)})
    after = world.copy()
    DeleteLink('ns0', name='eth0').predict(after)
    assert after.get('ns0').addresses == [Address('eth1', ip('192.0.2.2/24'))]
    assert [r.render() for r in after.get('ns0').routes] == [
        '192.0.2.0/24 dev eth1 proto kernel scope link src 192.0.2.2']
