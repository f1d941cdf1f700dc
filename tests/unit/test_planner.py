# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The planner on namespaces, links, addresses and routes: specs + a World built by hand -> actions.

Worlds are plain values (no kernel, no mocks); each test asserts on the actions,
on what they say (check mode) and on the before/after views (diff mode).
"""

from __future__ import annotations

import ipaddress
import typing as t

from dataclasses import replace

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._actions import (
    AddAddress,
    AddRoute,
    CreateNetns,
    DeleteAddress,
    DeleteNetns,
    DeleteRoute,
    ReplaceRoute,
    SetLink,
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
    Route,
    RouteSpec,
    World,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._planner import Plan, plan
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import diff_view

ip = ipaddress.ip_interface
net = ipaddress.ip_network
addr = ipaddress.ip_address

DEFAULT4 = net('0.0.0.0/0')
DEFAULT6 = net('::/0')


def lo(up: bool = True) -> Link:
    return Link('lo', ifindex=1, up=up, mtu=65536)


def eth0(up: bool = True, **changes: t.Any) -> Link:
    fields: dict[str, t.Any] = dict(ifindex=2, kind='veth', up=up, mtu=1500, min_mtu=68, max_mtu=9000,
                                    mac='52:54:00:00:01:01')
    fields.update(changes)
    return Link('eth0', **fields)


def namespace(name: t.Optional[str], *links: Link, addresses: t.Iterable[Address] = (),
              routes: t.Iterable[Route] = ()) -> Namespace:
    return Namespace(name, links={link.name: link for link in links}, addresses=list(addresses),
                     routes=list(routes))


def world(*namespaces: Namespace) -> World:
    return World(namespaces={ns.name: ns for ns in namespaces})


def diff(the_plan: Plan) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    return diff_view(the_plan.before, the_plan.scope), diff_view(the_plan.after, the_plan.scope)


# --- namespaces ---------------------------------------------------------------------

def test_create_missing_namespace() -> None:
    the_plan = plan([NamespaceSpec('ns0', ensure='present')], world(namespace(ROOT, lo())))
    assert the_plan.actions == [CreateNetns('ns0')]
    assert the_plan.changed
    assert the_plan.describe() == ['create namespace ns0']
    assert diff(the_plan) == ({'ns0': {'state': 'absent'}}, {'ns0': {'state': 'present'}})
    # A new namespace holds a loopback that is down, as the kernel makes it.
    assert the_plan.after.get('ns0').links == {
        'lo': Link('lo', ifindex=1, up=False, mtu=65536, min_mtu=0, max_mtu=0, mac='00:00:00:00:00:00')}


def test_planning_does_not_touch_the_world_as_read() -> None:
    before = world(namespace(ROOT, lo()))
    the_plan = plan([NamespaceSpec('ns0', ensure='present')], before)
    assert the_plan.before is before
    assert not before.get('ns0').exists


@pytest.mark.parametrize('ensure, exists, actions', [
    ('present', True, []),
    ('absent', True, [DeleteNetns('ns0')]),
    ('absent', False, []),
    ('exists', True, []),
])
def test_namespace_ensure(ensure: str, exists: bool, actions: list[t.Any]) -> None:
    namespaces = [namespace(ROOT, lo())] + ([namespace('ns0', lo(False))] if exists else [])
    the_plan = plan([NamespaceSpec('ns0', ensure=ensure)], world(*namespaces))
    assert the_plan.actions == actions
    assert the_plan.after.get('ns0').exists == (ensure != 'absent')


def test_delete_namespace_diff() -> None:
    the_plan = plan([NamespaceSpec('ns0', ensure='absent')], world(namespace(ROOT), namespace('ns0', lo(False))))
    assert the_plan.describe() == ['delete namespace ns0']
    assert diff(the_plan) == ({'ns0': {'state': 'present'}}, {'ns0': {'state': 'absent'}})


def test_delete_namespace_takes_the_veth_peers_elsewhere() -> None:
    """The kernel deletes the peer of each veth of a deleted namespace: ns1's v0b and the root's v1b go."""
    v0a = Link('v0a', ifindex=2, kind='veth', up=True, master_index=2, master_netns='ns1')
    v0b = Link('v0b', ifindex=2, kind='veth', up=True, master_index=2, master_netns='ns0')
    v1b = Link('v1b', ifindex=7, kind='veth', up=True, master_index=3, master_netns='ns0')
    ns1 = namespace('ns1', lo(), v0b)
    ns1.addresses.append(Address('v0b', ipaddress.ip_interface('192.0.2.1/24')))
    the_plan = plan([NamespaceSpec('ns0', ensure='absent')],
                    world(namespace(ROOT, lo(), v1b), namespace('ns0', lo(), v0a), ns1))
    assert the_plan.describe() == ['delete namespace ns0, and with it veth v1b in the root namespace, '
                                   'and with it veth v0b in namespace ns1']
    assert list(the_plan.after.get('ns1').links) == ['lo'] and the_plan.after.get('ns1').addresses == []
    assert list(the_plan.after.get(ROOT).links) == ['lo']


def test_exists_on_missing_namespace_fails() -> None:
    with pytest.raises(TaskError, match=r'^netns: namespace ns0 does not exist'):
        plan([NamespaceSpec('ns0', ensure='exists', links=(LinkSpec('lo', up=True),))], world(namespace(ROOT, lo())))


def test_removal_from_a_missing_namespace_is_done() -> None:
    spec = NamespaceSpec('ns0', routes=(RouteSpec(Route(ipaddress.ip_network('0.0.0.0/0')), present=False),))
    assert plan([spec], world(namespace(ROOT, lo()))).actions == []


@pytest.mark.parametrize('ensure', ['exists', 'present', 'absent'])
def test_root_namespace_is_never_created_nor_deleted(ensure: str) -> None:
    assert plan([NamespaceSpec(ROOT, ensure=ensure)], world(namespace(ROOT, lo()))).actions == []


def test_namespace_names_match_exactly() -> None:
    # ns0 is not ns0-old nor ns: an existing namespace whose name contains another one is not it.
    the_plan = plan([NamespaceSpec('ns0', ensure='present')],
                    world(namespace(ROOT), namespace('ns0-old', lo()), namespace('ns', lo())))
    assert the_plan.actions == [CreateNetns('ns0')]


def test_missing_namespace_for_links_addresses_routes_fails_before_anything() -> None:
    spec = NamespaceSpec('ns0', links=(LinkSpec('lo', up=True),))
    with pytest.raises(TaskError, match='does not exist'):
        plan([spec], world(namespace(ROOT, lo())))


# --- links --------------------------------------------------------------------------

LINK_CASES: list[tuple[str, Link, LinkSpec, list[t.Any]]] = [
    ('up', eth0(up=False), LinkSpec('eth0', up=True), [SetLink('ns0', name='eth0', up=True)]),
    ('already-up', eth0(), LinkSpec('eth0', up=True), []),
    ('down', eth0(), LinkSpec('eth0', up=False), [SetLink('ns0', name='eth0', up=False)]),
    ('already-down', eth0(up=False), LinkSpec('eth0', up=False), []),
    ('mtu', eth0(), LinkSpec('eth0', mtu=9000), [SetLink('ns0', name='eth0', mtu=9000)]),
    ('mtu-min', eth0(), LinkSpec('eth0', mtu=68), [SetLink('ns0', name='eth0', mtu=68)]),
    ('same-mtu', eth0(), LinkSpec('eth0', mtu=1500), []),
    ('up-and-mtu', eth0(up=False), LinkSpec('eth0', up=True, mtu=1400),
     [SetLink('ns0', name='eth0', up=True, mtu=1400)]),
    ('only-what-differs', eth0(), LinkSpec('eth0', up=True, mtu=1400), [SetLink('ns0', name='eth0', mtu=1400)]),
    ('nothing-asked', eth0(), LinkSpec('eth0'), []),
    ('no-range-reported', eth0(min_mtu=None, max_mtu=None), LinkSpec('eth0', mtu=65535),
     [SetLink('ns0', name='eth0', mtu=65535)]),
]


@pytest.mark.parametrize('link, spec, actions', [c[1:] for c in LINK_CASES], ids=[c[0] for c in LINK_CASES])
def test_link(link: Link, spec: LinkSpec, actions: list[t.Any]) -> None:
    the_plan = plan([NamespaceSpec('ns0', links=(spec,))], world(namespace(ROOT), namespace('ns0', lo(), link)))
    assert the_plan.actions == actions
    after = the_plan.after.get('ns0').links['eth0']
    if spec.up is not None:
        assert after.up is spec.up
    if spec.mtu is not None:
        assert after.mtu == spec.mtu


def test_link_change_description_and_diff() -> None:
    the_plan = plan([NamespaceSpec('ns0', links=(LinkSpec('eth0', up=True, mtu=1400),))],
                    world(namespace(ROOT), namespace('ns0', eth0(up=False))))
    assert the_plan.describe() == ['set eth0 in namespace ns0 up, mtu 1400']
    assert diff(the_plan) == (
        {'ns0': {'state': 'present', 'links': {'eth0': {'state': 'down', 'mtu': 1500}}}},
        {'ns0': {'state': 'present', 'links': {'eth0': {'state': 'up', 'mtu': 1400}}}},
    )


def test_link_in_root_namespace_is_described_as_such() -> None:
    the_plan = plan([NamespaceSpec(ROOT, links=(LinkSpec('eth0', up=True),))], world(namespace(ROOT, eth0(False))))
    assert the_plan.describe() == ['set eth0 in the root namespace up']
    assert list(diff(the_plan)[1]) == ['(root)']


@pytest.mark.parametrize('mtu, low, high', [(67, 68, 9000), (9001, 68, 9000), (1279, 1280, None)])
def test_link_mtu_out_of_the_links_range(mtu: int, low: int, high: t.Optional[int]) -> None:
    link = eth0(min_mtu=low, max_mtu=high)
    with pytest.raises(TaskError, match=r'^mtu: %d is out of range for eth0 \(%s to %s\)' % (mtu, low, high)):
        plan([NamespaceSpec('ns0', links=(LinkSpec('eth0', mtu=mtu),))], world(namespace('ns0', link)))


def test_missing_link_fails() -> None:
    with pytest.raises(TaskError, match=r'^name: link eth9 not found in namespace ns0'):
        plan([NamespaceSpec('ns0', links=(LinkSpec('eth9', up=True),))], world(namespace('ns0', lo(), eth0())))


def test_lo_up_predicts_loopback_addresses() -> None:
    the_plan = plan([NamespaceSpec('ns0', ensure='present', links=(LinkSpec('lo', up=True),))],
                    world(namespace(ROOT, lo())))
    assert the_plan.actions == [CreateNetns('ns0'), SetLink('ns0', name='lo', up=True)]
    assert sorted(str(a.ip) for a in the_plan.after.get('ns0').addresses_of('lo')) == ['127.0.0.1/8', '::1/128']


def test_lo_up_keeps_an_existing_ipv4_loopback_once() -> None:
    # lo taken down keeps 127.0.0.1 (IPv4 survives a down) but loses ::1.
    current = namespace('ns0', lo(up=False), addresses=[Address('lo', ip('127.0.0.1/8'), scope=254)])
    the_plan = plan([NamespaceSpec('ns0', links=(LinkSpec('lo', up=True),))], world(current))
    assert [str(a.ip) for a in the_plan.after.get('ns0').addresses_of('lo')] == ['127.0.0.1/8', '::1/128']


def test_other_link_up_predicts_no_addresses() -> None:
    the_plan = plan([NamespaceSpec('ns0', links=(LinkSpec('eth0', up=True),))],
                    world(namespace('ns0', eth0(up=False))))
    assert the_plan.after.get('ns0').addresses == []


def test_link_down_predicts_ipv6_and_route_flush() -> None:
    current = namespace(
        'ns0', lo(), eth0(), Link('eth1', ifindex=3, up=True),
        addresses=[Address('eth0', ip('198.51.100.2/24')), Address('eth0', ip('2001:db8::2/64')),
                   Address('eth0', ip('fe80::5054:ff:fe00:101/64'), scope=253),
                   Address('eth1', ip('2001:db8:1::2/64')), Address('lo', ip('::1/128'), scope=254)],
        routes=[Route(DEFAULT4, addr('198.51.100.1'), dev='eth0'),
                Route(DEFAULT6, addr('2001:db8::1'), dev='eth0', metric=1024),
                Route(net('203.0.113.0/24'), addr('2001:db8:1::1'), dev='eth1')])
    the_plan = plan([NamespaceSpec('ns0', links=(LinkSpec('eth0', up=False),))], world(current))
    after = the_plan.after.get('ns0')
    assert [str(a.ip) for a in after.addresses_of('eth0')] == ['198.51.100.2/24']
    assert [str(a.ip) for a in after.addresses if a.dev != 'eth0'] == ['2001:db8:1::2/64', '::1/128']
    assert [r.dev for r in after.routes] == ['eth1']


def test_link_already_down_predicts_no_flush() -> None:
    current = namespace('ns0', eth0(up=False), addresses=[Address('eth0', ip('2001:db8::2/64'), tentative=True)])
    the_plan = plan([NamespaceSpec('ns0', links=(LinkSpec('eth0', up=False, mtu=1400),))], world(current))
    assert the_plan.after.get('ns0').addresses == current.addresses


# --- addresses ----------------------------------------------------------------------

def addresses_on_eth0(*texts: str) -> Namespace:
    return namespace('ns0', lo(), eth0(), addresses=[Address('eth0', ip(text)) for text in texts])


def addresses_plan(current: Namespace, *wanted: str, **options: t.Any) -> Plan:
    spec = AddressesSpec('eth0', tuple(ip(text) for text in wanted), **options)
    return plan([NamespaceSpec('ns0', addresses=(spec,))], world(namespace(ROOT), current))


ADDRESS_CASES: list[tuple[str, tuple[str, ...], tuple[str, ...], dict[str, t.Any], list[str], list[str]]] = [
    ('add', (), ('198.51.100.11/24',), {},
     ['add address 198.51.100.11/24 to eth0 in namespace ns0'], ['198.51.100.11/24']),
    ('add-v4-and-v6', (), ('198.51.100.11/24', '2001:db8::11/64'), {},
     ['add address 198.51.100.11/24 to eth0 in namespace ns0', 'add address 2001:db8::11/64 to eth0 in namespace ns0'],
     ['198.51.100.11/24', '2001:db8::11/64']),
    ('idempotent', ('198.51.100.11/24', '2001:db8::11/64'), ('2001:db8::11/64', '198.51.100.11/24'), {},
     [], ['198.51.100.11/24', '2001:db8::11/64']),
    ('others-kept-without-purge', ('198.51.100.12/24',), ('198.51.100.11/24',), {},
     ['add address 198.51.100.11/24 to eth0 in namespace ns0'], ['198.51.100.11/24', '198.51.100.12/24']),
    ('v4-prefix-change', ('198.51.100.11/24',), ('198.51.100.11/25',), {},
     ['delete address 198.51.100.11/24 from eth0 in namespace ns0',
      'add address 198.51.100.11/25 to eth0 in namespace ns0'], ['198.51.100.11/25']),
    ('v6-prefix-change', ('2001:db8::11/64',), ('2001:db8::11/48',), {},
     ['delete address 2001:db8::11/64 from eth0 in namespace ns0',
      'add address 2001:db8::11/48 to eth0 in namespace ns0'], ['2001:db8::11/48']),
    ('purge-keeps-link-local', ('198.51.100.11/24', '198.51.100.12/24', '2001:db8::5/64', 'fe80::1/64'),
     ('198.51.100.11/24',), dict(purge=True),
     ['delete address 198.51.100.12/24 from eth0 in namespace ns0',
      'delete address 2001:db8::5/64 from eth0 in namespace ns0'], ['198.51.100.11/24', 'fe80::1/64']),
    ('purge-to-nothing', ('198.51.100.11/24', 'fe80::1/64'), (), dict(purge=True),
     ['delete address 198.51.100.11/24 from eth0 in namespace ns0'], ['fe80::1/64']),
    ('deletions-before-additions', ('198.51.100.12/24', '198.51.100.11/24'), ('10.0.0.1/8', '198.51.100.11/25'),
     dict(purge=True),
     ['delete address 198.51.100.12/24 from eth0 in namespace ns0',
      'delete address 198.51.100.11/24 from eth0 in namespace ns0',
      'add address 10.0.0.1/8 to eth0 in namespace ns0',
      'add address 198.51.100.11/25 to eth0 in namespace ns0'], ['10.0.0.1/8', '198.51.100.11/25']),
    ('absent-matches-by-ip', ('198.51.100.11/24', '198.51.100.12/24'), ('198.51.100.11/32',), dict(present=False),
     ['delete address 198.51.100.11/24 from eth0 in namespace ns0'], ['198.51.100.12/24']),
    ('absent-v6', ('2001:db8::11/64', 'fe80::1/64'), ('2001:db8::11/128',), dict(present=False),
     ['delete address 2001:db8::11/64 from eth0 in namespace ns0'], ['fe80::1/64']),
    ('absent-already', ('198.51.100.12/24',), ('198.51.100.11/24',), dict(present=False),
     [], ['198.51.100.12/24']),
]


@pytest.mark.parametrize('current, wanted, options, described, after',
                         [c[1:] for c in ADDRESS_CASES], ids=[c[0] for c in ADDRESS_CASES])
def test_addresses(current: tuple[str, ...], wanted: tuple[str, ...], options: dict[str, t.Any],
                   described: list[str], after: list[str]) -> None:
    the_plan = addresses_plan(addresses_on_eth0(*current), *wanted, **options)
    assert the_plan.describe() == described
    assert sorted(str(a.ip) for a in the_plan.after.get('ns0').addresses_of('eth0')) == after


def test_address_actions_and_nodad() -> None:
    the_plan = addresses_plan(addresses_on_eth0('2001:db8::11/48'), '2001:db8::11/64', nodad=True)
    assert the_plan.actions == [
        DeleteAddress('ns0', dev='eth0', ip=ip('2001:db8::11/48')),
        AddAddress('ns0', dev='eth0', ip=ip('2001:db8::11/64'), nodad=True),
    ]


def test_address_prefix_change_diff_shows_one_address() -> None:
    the_plan = addresses_plan(addresses_on_eth0('198.51.100.11/24', 'fe80::1/64'), '198.51.100.11/25')
    before, after = diff(the_plan)
    assert before['ns0']['links']['eth0']['addresses'] == ['198.51.100.11/24', 'fe80::1/64']
    assert after['ns0']['links']['eth0']['addresses'] == ['198.51.100.11/25', 'fe80::1/64']


def test_addresses_only_touch_their_link() -> None:
    current = namespace('ns0', eth0(), Link('eth1', ifindex=3, up=True),
                        addresses=[Address('eth1', ip('198.51.100.12/24'))])
    the_plan = addresses_plan(current, '198.51.100.11/24', purge=True)
    assert the_plan.actions == [AddAddress('ns0', dev='eth0', ip=ip('198.51.100.11/24'))]


def test_addresses_on_missing_link_fail() -> None:
    spec = AddressesSpec('eth9', (ip('198.51.100.11/24'),))
    with pytest.raises(TaskError, match=r'^dev: link eth9 not found in namespace ns0'):
        plan([NamespaceSpec('ns0', addresses=(spec,))], world(namespace('ns0', lo(), eth0())))


def test_addresses_on_link_taken_down_in_the_same_plan_are_added_back() -> None:
    # Going down flushes the IPv6 address; the address phase sees that and adds it again.
    current = addresses_on_eth0('2001:db8::11/64')
    spec = NamespaceSpec('ns0', links=(LinkSpec('eth0', up=False),),
                         addresses=(AddressesSpec('eth0', (ip('2001:db8::11/64'),)),))
    the_plan = plan([spec], world(current))
    assert the_plan.actions == [SetLink('ns0', name='eth0', up=False),
                                AddAddress('ns0', dev='eth0', ip=ip('2001:db8::11/64'))]


# --- routes -------------------------------------------------------------------------

GW = addr('198.51.100.1')


def routed(*routes: Route, link_up: bool = True) -> Namespace:
    """ns0 with eth0 in 198.51.100.0/24 and 2001:db8::/64, and the given user routes."""
    return namespace('ns0', lo(), eth0(up=link_up),
                     addresses=[Address('eth0', ip('198.51.100.2/24')), Address('eth0', ip('2001:db8::2/64'))],
                     routes=routes)


def routes_plan(current: Namespace, *wanted: RouteSpec, **options: t.Any) -> Plan:
    return plan([NamespaceSpec('ns0', routes=wanted, **options)], world(namespace(ROOT), current))


def present(route: Route) -> RouteSpec:
    return RouteSpec(route)


def absent(route: Route) -> RouteSpec:
    return RouteSpec(route, present=False)


def test_add_route() -> None:
    route = Route(DEFAULT4, GW, dev='eth0')
    the_plan = routes_plan(routed(), present(route))
    assert the_plan.actions == [AddRoute('ns0', route=route)]
    assert the_plan.describe() == ['add route default via 198.51.100.1 dev eth0 in namespace ns0']
    assert diff(the_plan) == (
        {'ns0': {'state': 'present', 'routes': []}},
        {'ns0': {'state': 'present', 'routes': ['default via 198.51.100.1 dev eth0']}},
    )


ROUTE_IDEMPOTENT: list[tuple[str, Route, Route]] = [
    ('same', Route(DEFAULT4, GW, dev='eth0'), Route(DEFAULT4, GW, dev='eth0')),
    ('dev-omitted-kernel-reports-one', Route(DEFAULT4, GW, dev='eth0'), Route(DEFAULT4, GW)),
    ('v6', Route(DEFAULT6, addr('2001:db8::1'), dev='eth0', metric=1024),
     Route(DEFAULT6, addr('2001:db8::1'), metric=1024)),
    ('dev-route', Route(net('203.0.113.0/24'), dev='eth0', scope=SCOPES['link']),
     Route(net('203.0.113.0/24'), dev='eth0', scope=SCOPES['link'])),
    ('other-proto', Route(DEFAULT4, GW, dev='eth0', proto=3), Route(DEFAULT4, GW)),
    ('table', Route(DEFAULT4, GW, dev='eth0', table=1000), Route(DEFAULT4, GW, table=1000)),
]


@pytest.mark.parametrize('current, wanted', [c[1:] for c in ROUTE_IDEMPOTENT], ids=[c[0] for c in ROUTE_IDEMPOTENT])
def test_route_idempotent(current: Route, wanted: Route) -> None:
    the_plan = routes_plan(routed(current), present(wanted))
    assert the_plan.actions == []
    assert not the_plan.changed
    before, after = diff(the_plan)
    assert before == after


ROUTE_REPLACED: list[tuple[str, Route, Route]] = [
    ('gateway', Route(DEFAULT4, GW, dev='eth0'), Route(DEFAULT4, addr('198.51.100.254'))),
    ('dev', Route(net('203.0.113.0/24'), dev='eth0', scope=SCOPES['link']),
     Route(net('203.0.113.0/24'), dev='lo', scope=SCOPES['link'])),
    ('scope', Route(net('203.0.113.0/24'), dev='eth0', scope=SCOPES['link']),
     Route(net('203.0.113.0/24'), dev='eth0', scope=SCOPES['host'])),
    ('onlink', Route(DEFAULT4, GW, dev='eth0'), Route(DEFAULT4, GW, dev='eth0', onlink=True)),
    ('v6-gateway', Route(DEFAULT6, addr('2001:db8::1'), dev='eth0', metric=1024),
     Route(DEFAULT6, addr('2001:db8::fe'), metric=1024)),
]


@pytest.mark.parametrize('current, wanted', [c[1:] for c in ROUTE_REPLACED], ids=[c[0] for c in ROUTE_REPLACED])
def test_route_replaced_not_duplicated(current: Route, wanted: Route) -> None:
    the_plan = routes_plan(routed(current), present(wanted))
    # Without a dev, the plan names the device the kernel will pick (eth0 reaches the gateway).
    expected = replace(wanted, dev=wanted.dev or 'eth0')
    assert the_plan.actions == [ReplaceRoute('ns0', old=current, route=expected)]
    assert the_plan.after.get('ns0').routes == [expected]


def test_route_replace_description() -> None:
    the_plan = routes_plan(routed(Route(DEFAULT4, GW, dev='eth0')), present(Route(DEFAULT4, addr('198.51.100.254'))))
    assert the_plan.describe() == [
        'replace route default via 198.51.100.1 dev eth0 with default via 198.51.100.254 dev eth0 in namespace ns0']


@pytest.mark.parametrize('current, wanted', [
    (Route(DEFAULT4, GW, dev='eth0'), Route(DEFAULT4, addr('198.51.100.254'), metric=100)),
    (Route(DEFAULT6, addr('2001:db8::1'), dev='eth0', metric=1024),
     Route(DEFAULT6, addr('2001:db8::1'), dev='eth0', metric=100)),
    (Route(DEFAULT4, GW, dev='eth0'), Route(DEFAULT4, GW, dev='eth0', table=1000)),
], ids=['v4-metric', 'v6-metric', 'table'])
def test_route_metric_and_table_are_part_of_the_key(current: Route, wanted: Route) -> None:
    the_plan = routes_plan(routed(current), present(wanted))
    expected = replace(wanted, dev='eth0')
    assert the_plan.actions == [AddRoute('ns0', route=expected)]
    assert the_plan.after.get('ns0').routes == [current, expected]


ROUTE_ABSENT: list[tuple[str, list[Route], Route, list[Route]]] = [
    ('same', [Route(DEFAULT4, GW, dev='eth0')], Route(DEFAULT4, GW, dev='eth0'), []),
    ('without-gateway-any-path', [Route(DEFAULT4, GW, dev='eth0')], Route(DEFAULT4, dev='eth0'), []),
    ('other-gateway-kept', [Route(DEFAULT4, GW, dev='eth0')], Route(DEFAULT4, addr('198.51.100.254')),
     [Route(DEFAULT4, GW, dev='eth0')]),
    ('other-metric-kept', [Route(DEFAULT4, GW, dev='eth0', metric=100)], Route(DEFAULT4, GW),
     [Route(DEFAULT4, GW, dev='eth0', metric=100)]),
    ('only-that-metric', [Route(DEFAULT4, GW, dev='eth0'), Route(DEFAULT4, GW, dev='eth0', metric=100)],
     Route(DEFAULT4, GW, metric=100), [Route(DEFAULT4, GW, dev='eth0')]),
    ('already-absent', [], Route(DEFAULT4, GW), []),
]


@pytest.mark.parametrize('current, wanted, left', [c[1:] for c in ROUTE_ABSENT], ids=[c[0] for c in ROUTE_ABSENT])
def test_route_absent(current: list[Route], wanted: Route, left: list[Route]) -> None:
    the_plan = routes_plan(routed(*current), absent(wanted))
    assert the_plan.actions == [DeleteRoute('ns0', route=r) for r in current if r not in left]
    assert the_plan.after.get('ns0').routes == left


def test_route_absent_description_names_the_kernel_route() -> None:
    the_plan = routes_plan(routed(Route(DEFAULT4, GW, dev='eth0', metric=5)), absent(Route(DEFAULT4, GW, metric=5)))
    assert the_plan.describe() == ['delete route default via 198.51.100.1 dev eth0 metric 5 in namespace ns0']


@pytest.mark.parametrize('wanted, message', [
    (Route(DEFAULT4, addr('203.0.113.1')), r'^gateway: 203\.0\.113\.1 is not reachable in namespace ns0.*onlink'),
    (Route(DEFAULT4, addr('203.0.113.1'), dev='eth0'), r'^gateway: 203\.0\.113\.1 is not reachable .*\(eth0\)'),
    (Route(DEFAULT6, addr('2001:db8:5::1'), metric=1024), r'^gateway: 2001:db8:5::1 is not reachable'),
    # The right subnet, but on another link than the one asked for.
    (Route(DEFAULT4, GW, dev='lo'), r'^gateway: 198\.51\.100\.1 is not reachable .*\(lo\)'),
], ids=['v4', 'v4-dev', 'v6', 'wrong-dev'])
def test_unreachable_gateway_fails(wanted: Route, message: str) -> None:
    with pytest.raises(TaskError, match=message):
        routes_plan(routed(), present(wanted))


def test_unreachable_gateway_with_onlink() -> None:
    route = Route(DEFAULT4, addr('203.0.113.1'), dev='eth0', onlink=True)
    assert routes_plan(routed(), present(route)).actions == [AddRoute('ns0', route=route)]


def test_link_local_ipv6_gateway_needs_no_covering_address() -> None:
    route = Route(DEFAULT6, addr('fe80::1'), dev='eth0', metric=1024)
    assert routes_plan(routed(), present(route)).actions == [AddRoute('ns0', route=route)]


def test_gateway_behind_a_down_link_is_unreachable() -> None:
    with pytest.raises(TaskError, match='^gateway: 198.51.100.1 is not reachable'):
        routes_plan(routed(link_up=False), present(Route(DEFAULT4, GW)))


def test_gateway_reachable_through_a_device_route() -> None:
    device_route = Route(net('192.0.2.0/24'), dev='eth0', scope=SCOPES['link'])
    route = Route(net('203.0.113.0/24'), addr('192.0.2.1'))
    assert routes_plan(routed(device_route), present(route)).actions == [
        AddRoute('ns0', route=replace(route, dev='eth0'))]


def test_replacing_with_an_unreachable_gateway_fails() -> None:
    with pytest.raises(TaskError, match='^gateway: 203.0.113.1 is not reachable'):
        routes_plan(routed(Route(DEFAULT4, GW, dev='eth0')), present(Route(DEFAULT4, addr('203.0.113.1'))))


def test_gateway_reachable_via_address_added_in_the_same_plan() -> None:
    current = namespace('ns0', lo(), eth0())
    route = Route(DEFAULT4, GW)
    spec = NamespaceSpec('ns0', addresses=(AddressesSpec('eth0', (ip('198.51.100.11/24'),)),),
                         routes=(RouteSpec(route),))
    the_plan = plan([spec], world(current))
    assert the_plan.actions == [AddAddress('ns0', dev='eth0', ip=ip('198.51.100.11/24')),
                                AddRoute('ns0', route=replace(route, dev='eth0'))]


def test_gateway_reachable_via_link_brought_up_in_the_same_plan() -> None:
    spec = NamespaceSpec('ns0', links=(LinkSpec('eth0', up=True),), routes=(RouteSpec(Route(DEFAULT4, GW)),))
    the_plan = plan([spec], world(routed(link_up=False)))
    assert [type(a) for a in the_plan.actions] == [SetLink, AddRoute]


@pytest.mark.parametrize('wanted, message', [
    (Route(DEFAULT4, GW, dev='eth0'), '^dev: eth0 in namespace ns0 is down'),
    (Route(DEFAULT4, GW), '^gateway: 198.51.100.1 is not reachable'),
], ids=['with-dev', 'without-dev'])
def test_route_flushed_by_link_down_cannot_be_added_back(wanted: Route, message: str) -> None:
    # Down flushes the route; the kernel would refuse it again through the down link.
    spec = NamespaceSpec('ns0', links=(LinkSpec('eth0', up=False),), routes=(RouteSpec(wanted),))
    with pytest.raises(TaskError, match=message):
        plan([spec], world(routed(Route(DEFAULT4, GW, dev='eth0'))))


def test_route_on_missing_dev_fails() -> None:
    with pytest.raises(TaskError, match=r'^dev: link eth9 not found in namespace ns0'):
        routes_plan(routed(), present(Route(DEFAULT4, GW, dev='eth9')))


def test_purge_routes_removes_unlisted_routes() -> None:
    keep = Route(DEFAULT4, GW, dev='eth0')
    stale = [Route(net('203.0.113.0/24'), GW, dev='eth0'), Route(DEFAULT4, GW, dev='eth0', metric=100)]
    the_plan = routes_plan(routed(keep, *stale), present(Route(DEFAULT4, GW)), purge_routes=True)
    assert the_plan.actions == [DeleteRoute('ns0', route=r) for r in stale]
    assert the_plan.after.get('ns0').routes == [keep]
    before, after = diff(the_plan)
    assert before['ns0']['routes'] == ['203.0.113.0/24 via 198.51.100.1 dev eth0', 'default via 198.51.100.1 dev eth0',
                                       'default via 198.51.100.1 dev eth0 metric 100']
    assert after['ns0']['routes'] == ['default via 198.51.100.1 dev eth0']


def test_routes_in_a_namespace_created_by_the_same_plan() -> None:
    spec = NamespaceSpec('ns0', ensure='present', links=(LinkSpec('lo', up=True),),
                         routes=(RouteSpec(Route(net('127.1.0.0/16'), dev='lo', scope=SCOPES['link'])),))
    the_plan = plan([spec], world(namespace(ROOT)))
    assert [type(a) for a in the_plan.actions] == [CreateNetns, SetLink, AddRoute]
    assert diff(the_plan)[0] == {'ns0': {'state': 'absent'}}


@pytest.mark.parametrize('route', [
    Route(net('203.0.113.0/24'), dev='eth0', scope=SCOPES['link']),
    Route(DEFAULT4, addr('203.0.113.1'), dev='eth0', onlink=True),
    Route(net('2001:db8:5::/64'), dev='eth0', metric=1024),
], ids=['v4-dev-route', 'v4-onlink', 'v6-dev-route'])
def test_route_through_a_down_link_fails(route: Route) -> None:
    # The kernel refuses a nexthop device that is down (ENETDOWN, "Nexthop device is not up").
    with pytest.raises(TaskError, match=r'^dev: eth0 in namespace ns0 is down'):
        routes_plan(routed(link_up=False), present(route))


def test_route_through_a_link_taken_down_in_the_same_plan_fails() -> None:
    spec = NamespaceSpec('ns0', links=(LinkSpec('eth0', up=False),),
                         routes=(RouteSpec(Route(net('203.0.113.0/24'), dev='eth0', scope=SCOPES['link'])),))
    with pytest.raises(TaskError, match=r'^dev: eth0 in namespace ns0 is down'):
        plan([spec], world(routed()))


def test_route_absent_through_a_down_link_is_fine() -> None:
    route = Route(net('203.0.113.0/24'), dev='eth0', scope=SCOPES['link'])
    assert routes_plan(routed(link_up=False), absent(route)).actions == []


# --- IPv4 secondaries: deleting a primary deletes them (promote_secondaries=0, the default) ---

def primary_and_secondary(*extra: Address) -> Namespace:
    """198.51.100.11/24 came first (primary), 198.51.100.12/24 is its secondary, as the kernel reports them."""
    return namespace('ns0', lo(), eth0(), addresses=[Address('eth0', ip('198.51.100.11/24')),
                                                     Address('eth0', ip('198.51.100.12/24'), secondary=True),
                                                     *extra])


SECONDARY_CASES: list[tuple[str, tuple[str, ...], dict[str, t.Any], list[str], list[str]]] = [
    # Primary first would take the secondary with it, and deleting that then fails (EADDRNOTAVAIL).
    ('purge-both', ('10.0.0.1/8',), dict(purge=True),
     ['delete address 198.51.100.12/24 from eth0 in namespace ns0',
      'delete address 198.51.100.11/24 from eth0 in namespace ns0',
      'add address 10.0.0.1/8 to eth0 in namespace ns0'], ['10.0.0.1/8']),
    ('purge-primary-keep-secondary', ('198.51.100.12/24',), dict(purge=True),
     ['delete address 198.51.100.12/24 from eth0 in namespace ns0',
      'delete address 198.51.100.11/24 from eth0 in namespace ns0',
      'add address 198.51.100.12/24 to eth0 in namespace ns0'], ['198.51.100.12/24']),
    ('primary-prefix-change-keeps-unlisted-secondary', ('198.51.100.11/25',), {},
     ['delete address 198.51.100.12/24 from eth0 in namespace ns0',
      'delete address 198.51.100.11/24 from eth0 in namespace ns0',
      'add address 198.51.100.11/25 to eth0 in namespace ns0',
      'add address 198.51.100.12/24 to eth0 in namespace ns0'], ['198.51.100.11/25', '198.51.100.12/24']),
    ('absent-primary-keeps-secondary', ('198.51.100.11/24',), dict(present=False),
     ['delete address 198.51.100.12/24 from eth0 in namespace ns0',
      'delete address 198.51.100.11/24 from eth0 in namespace ns0',
      'add address 198.51.100.12/24 to eth0 in namespace ns0'], ['198.51.100.12/24']),
    ('absent-secondary-alone', ('198.51.100.12/24',), dict(present=False),
     ['delete address 198.51.100.12/24 from eth0 in namespace ns0'], ['198.51.100.11/24']),
    ('purge-secondary-alone', ('198.51.100.11/24',), dict(purge=True),
     ['delete address 198.51.100.12/24 from eth0 in namespace ns0'], ['198.51.100.11/24']),
    ('already-as-wanted', ('198.51.100.11/24', '198.51.100.12/24'), dict(purge=True), [],
     ['198.51.100.11/24', '198.51.100.12/24']),
]


@pytest.mark.parametrize('wanted, options, described, after', [c[1:] for c in SECONDARY_CASES],
                         ids=[c[0] for c in SECONDARY_CASES])
def test_ipv4_secondaries(wanted: tuple[str, ...], options: dict[str, t.Any], described: list[str],
                          after: list[str]) -> None:
    the_plan = addresses_plan(primary_and_secondary(), *wanted, **options)
    assert the_plan.describe() == described
    assert sorted(str(a.ip) for a in the_plan.after.get('ns0').addresses_of('eth0')) == after


def test_deleting_a_primary_leaves_other_subnets_alone() -> None:
    current = primary_and_secondary(Address('eth0', ip('10.0.0.1/8')), Address('eth0', ip('198.51.100.13/25')))
    the_plan = addresses_plan(current, '198.51.100.11/24', present=False)
    assert the_plan.describe() == ['delete address 198.51.100.12/24 from eth0 in namespace ns0',
                                   'delete address 198.51.100.11/24 from eth0 in namespace ns0',
                                   'add address 198.51.100.12/24 to eth0 in namespace ns0']


def test_a_route_already_deleted_by_the_kernel_counts_as_deleted() -> None:
    """Deleting a route or address that vanished meanwhile (its link left with a namespace) is no error."""
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._actions import _already_gone
    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import NetlinkError

    with _already_gone(3):
        raise NetlinkError(3, 'No such process')
    with pytest.raises(NetlinkError):
        with _already_gone(3):
            raise NetlinkError(22, 'Invalid argument')
