# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The planner on ipvlan slaves: creation, the master checks, the port-wide mode, identity drift, moves, removal.

The host of these tests: eth0 (up, mtu 1500) and eth1 (down) in the root
namespace, two empty namespaces ns0 and ns1.
"""

from __future__ import annotations

import ipaddress
import typing as t
from dataclasses import replace

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._actions import (
    CreateIpvlan,
    CreateNetns,
    DeleteLink,
    MoveLink,
    SetIpvlanPort,
    SetLink,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    MANAGED_ALIAS,
    ROOT,
    Address,
    AddressesSpec,
    IpvlanSpec,
    Link,
    Namespace,
    NamespaceSpec,
    World,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._planner import Plan, plan
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import diff_view

ip = ipaddress.ip_interface
MAC = '52:54:00:00:01:01'
LO = Link('lo', ifindex=1, up=True, mtu=65536)
ETH0 = Link('eth0', ifindex=2, kind=None, up=True, mtu=1500, mac=MAC)
ETH1 = Link('eth1', ifindex=3, kind=None, up=False, mtu=1500, mac='52:54:00:00:01:02')


def slave(name: str, master: Link = ETH0, mode: str = 'l3', flags: str = 'bridge', ifindex: int = 10,
          **changes: t.Any) -> Link:
    """An ipvlan slave as the reader reports it (master in the root namespace)."""
    return Link(name, ifindex=ifindex, kind='ipvlan', up=True, mtu=master.mtu, mac=master.mac,
                master_index=master.ifindex, master_netns=ROOT, ipvlan_mode=mode, ipvlan_flags=flags, **changes)


def host(root: t.Iterable[Link] = (), ns0: t.Iterable[Link] = (), ns1: t.Iterable[Link] = ()) -> World:
    def links(*items: Link) -> dict[str, Link]:
        return {link.name: link for link in items}

    return World(namespaces={
        ROOT: Namespace(ROOT, links=links(LO, ETH0, ETH1, *root)),
        'ns0': Namespace('ns0', links=links(LO, *ns0)),
        'ns1': Namespace('ns1', links=links(LO, *ns1)),
    })


def ipvlan_plan(world: World, *ipvlans: IpvlanSpec, netns: t.Optional[str] = 'ns0') -> Plan:
    return plan([NamespaceSpec(netns, ipvlans=ipvlans)], world)


def diff(the_plan: Plan) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    return diff_view(the_plan.before, the_plan.scope), diff_view(the_plan.after, the_plan.scope)


# --- creation -----------------------------------------------------------------------

def test_create_ipvlan_in_a_namespace() -> None:
    the_plan = ipvlan_plan(host(), IpvlanSpec('ipvl0', master='eth0', mode='l2', flags='private'))
    assert the_plan.actions == [
        CreateIpvlan('ns0', name='ipvl0', master='eth0', master_index=2, master_netns=ROOT, mode='l2',
                     flags='private', mtu=None, master_mtu=1500, mac=MAC),
    ]
    assert the_plan.describe() == ['create ipvlan ipvl0 on eth0 (the root namespace), mode l2 private in namespace ns0']
    assert diff(the_plan) == (
        {'ns0': {'state': 'present'}},
        {'ns0': {'state': 'present', 'links': {'ipvl0': {
            'state': 'down', 'mtu': 1500, 'kind': 'ipvlan', 'mode': 'l2', 'flags': 'private', 'master': 'eth0'}}}},
    )


@pytest.mark.parametrize('mode', ['l2', 'l3', 'l3s'])
@pytest.mark.parametrize('flags', ['bridge', 'private', 'vepa'])
def test_create_predicts_the_slave(mode: str, flags: str) -> None:
    the_plan = ipvlan_plan(host(), IpvlanSpec('ipvl0', master='eth0', mode=mode, flags=flags))
    link = the_plan.after.get('ns0').links['ipvl0']
    assert (link.kind, link.ipvlan_mode, link.ipvlan_flags) == ('ipvlan', mode, flags)
    assert (link.master_index, link.master_netns, link.mac, link.up) == (2, ROOT, MAC, False)
    assert 'ipvl0' not in the_plan.after.get(ROOT).links


@pytest.mark.parametrize('mtu, predicted', [(None, 1500), (1400, 1400), (1500, 1500)])
def test_create_predicts_the_mtu(mtu: t.Optional[int], predicted: int) -> None:
    the_plan = ipvlan_plan(host(), IpvlanSpec('ipvl0', master='eth0', mtu=mtu))
    assert the_plan.actions[0].mtu == mtu
    assert the_plan.after.get('ns0').links['ipvl0'].mtu == predicted
    # The mtu is given at creation: no separate SetLink for it.
    assert [type(a) for a in the_plan.actions] == [CreateIpvlan]


def test_create_next_to_its_master() -> None:
    the_plan = ipvlan_plan(host(), IpvlanSpec('ipvl0', master='eth0'), netns=ROOT)
    assert the_plan.describe() == ['create ipvlan ipvl0 on eth0, mode l3 bridge in the root namespace']
    assert the_plan.after.get(ROOT).links['ipvl0'].kind == 'ipvlan'


def test_create_with_master_in_a_namespace() -> None:
    world = host(ns1=[replace(ETH0, name='eth9', ifindex=7)])
    the_plan = ipvlan_plan(world, IpvlanSpec('ipvl0', master='eth9', master_netns='ns1'))
    assert the_plan.actions[0].master_netns == 'ns1'
    assert the_plan.actions[0].master_index == 7
    assert the_plan.describe() == ['create ipvlan ipvl0 on eth9 (namespace ns1), mode l3 bridge in namespace ns0']


def test_create_up_and_marked() -> None:
    the_plan = ipvlan_plan(host(), IpvlanSpec('ipvl0', master='eth0', up=True, marker=MANAGED_ALIAS))
    assert the_plan.actions[1:] == [SetLink('ns0', name='ipvl0', up=True, alias=MANAGED_ALIAS)]
    link = the_plan.after.get('ns0').links['ipvl0']
    assert link.up and link.managed


def test_create_in_a_namespace_created_by_the_same_plan() -> None:
    world = host()
    del world.namespaces['ns0']
    the_plan = plan([NamespaceSpec('ns0', ensure='present', ipvlans=(IpvlanSpec('ipvl0', master='eth0'),))], world)
    assert [type(a) for a in the_plan.actions] == [CreateNetns, CreateIpvlan]


def test_create_in_a_missing_namespace_fails() -> None:
    world = host()
    del world.namespaces['ns0']
    with pytest.raises(TaskError, match='namespace ns0 does not exist'):
        ipvlan_plan(world, IpvlanSpec('ipvl0', master='eth0'))


# --- the master -----------------------------------------------------------------------

MASTER_ERRORS: list[tuple[str, World, IpvlanSpec, str]] = [
    ('missing', host(), IpvlanSpec('ipvl0', master='eth9'), r'^master: link eth9 not found in the root namespace'),
    ('missing-in-its-namespace', host(), IpvlanSpec('ipvl0', master='eth0', master_netns='ns1'),
     r'^master: link eth0 not found in namespace ns1'),
    ('master-netns-missing', host(), IpvlanSpec('ipvl0', master='eth0', master_netns='nsX'),
     r'^master_netns: namespace nsX does not exist'),
    ('down', host(), IpvlanSpec('ipvl0', master='eth1'), r'^master: eth1 in the root namespace is down'),
    ('itself-ipvlan', host(root=[slave('ipvl9')]), IpvlanSpec('ipvl0', master='ipvl9'),
     r'^master: ipvl9 in the root namespace is itself an ipvlan slave'),
    ('mtu-above-master', host(), IpvlanSpec('ipvl0', master='eth0', mtu=1501),
     r'^mtu: 1501 is larger than the mtu of master eth0 \(1500\)'),
    ('mtu-above-master-existing', host(ns0=[slave('ipvl0')]), IpvlanSpec('ipvl0', master='eth0', mtu=9000),
     r'^mtu: 9000 is larger than the mtu of master eth0'),
]


@pytest.mark.parametrize('world, spec, message', [c[1:] for c in MASTER_ERRORS], ids=[c[0] for c in MASTER_ERRORS])
def test_master_errors(world: World, spec: IpvlanSpec, message: str) -> None:
    with pytest.raises(TaskError, match=message):
        ipvlan_plan(world, spec)


# --- an existing slave ----------------------------------------------------------------

def test_identical_slave_needs_nothing() -> None:
    the_plan = ipvlan_plan(host(ns0=[slave('ipvl0', mode='l2', flags='vepa')]),
                           IpvlanSpec('ipvl0', master='eth0', mode='l2', flags='vepa', up=True))
    assert the_plan.actions == []
    before, after = diff(the_plan)
    assert before == after
    assert after['ns0']['links']['ipvl0']['mode'] == 'l2'


@pytest.mark.parametrize('spec, action', [
    (IpvlanSpec('ipvl0', master='eth0', up=False), SetLink('ns0', name='ipvl0', up=False)),
    (IpvlanSpec('ipvl0', master='eth0', mtu=1400), SetLink('ns0', name='ipvl0', mtu=1400)),
    (IpvlanSpec('ipvl0', master='eth0', marker=MANAGED_ALIAS), SetLink('ns0', name='ipvl0', alias=MANAGED_ALIAS)),
], ids=['down', 'mtu', 'mark'])
def test_existing_slave_admin_state_mtu_marker(spec: IpvlanSpec, action: SetLink) -> None:
    assert ipvlan_plan(host(ns0=[slave('ipvl0')]), spec).actions == [action]


@pytest.mark.parametrize('mode, flags', [('l2', 'bridge'), ('l3', 'private'), ('l3s', 'vepa')])
def test_mode_change_without_siblings_is_done_in_place(mode: str, flags: str) -> None:
    the_plan = ipvlan_plan(host(ns0=[slave('ipvl0')]), IpvlanSpec('ipvl0', master='eth0', mode=mode, flags=flags))
    assert the_plan.actions == [SetIpvlanPort('ns0', name='ipvl0', mode=mode, flags=flags, port=(ROOT, 2))]
    assert the_plan.describe() == ['set ipvlan port of ipvl0 in namespace ns0 to mode %s %s' % (mode, flags)]
    link = the_plan.after.get('ns0').links['ipvl0']
    assert (link.ipvlan_mode, link.ipvlan_flags) == (mode, flags)
    before, after = diff(the_plan)
    assert (before['ns0']['links']['ipvl0']['mode'], after['ns0']['links']['ipvl0']['mode']) == ('l3', mode)


@pytest.mark.parametrize('world, sibling', [
    (host(ns0=[slave('ipvl0')], ns1=[slave('ipvl1', ifindex=11)]), 'ipvl1 in namespace ns1'),
    (host(root=[slave('ipvl7', ifindex=11)], ns0=[slave('ipvl0')]), 'ipvl7 in the root namespace'),
], ids=['sibling-in-other-namespace', 'sibling-in-root'])
def test_mode_change_with_a_sibling_fails_naming_it(world: World, sibling: str) -> None:
    with pytest.raises(TaskError) as exc:
        ipvlan_plan(world, IpvlanSpec('ipvl0', master='eth0', mode='l2'))
    assert exc.value.msg.startswith(
        'mode: ipvl0 asks for mode l2 bridge, but its master eth0 already runs mode l3 bridge')
    assert sibling in exc.value.msg
    assert 'allow_port_change' in exc.value.msg


def test_flags_change_with_a_sibling_fails_too() -> None:
    world = host(ns0=[slave('ipvl0')], ns1=[slave('ipvl1', ifindex=11)])
    with pytest.raises(TaskError, match='ipvl1 in namespace ns1'):
        ipvlan_plan(world, IpvlanSpec('ipvl0', master='eth0', flags='private'))


def test_allow_port_change_changes_every_sibling() -> None:
    world = host(ns0=[slave('ipvl0')], ns1=[slave('ipvl1', ifindex=11)])
    the_plan = ipvlan_plan(world, IpvlanSpec('ipvl0', master='eth0', mode='l2', allow_port_change=True))
    assert the_plan.actions == [SetIpvlanPort('ns0', name='ipvl0', mode='l2', flags='bridge', port=(ROOT, 2),
                                              siblings=(('ns1', 'ipvl1'),))]
    assert the_plan.describe() == [
        'set ipvlan port of ipvl0 in namespace ns0 to mode l2 bridge (shared with ns1/ipvl1)']
    assert the_plan.after.get('ns1').links['ipvl1'].ipvlan_mode == 'l2'
    # The diff shows the sibling that changes with it.
    before, after = diff(the_plan)
    assert before['ns1']['links']['ipvl1']['mode'] == 'l3'
    assert after['ns1']['links']['ipvl1']['mode'] == 'l2'


def test_slaves_of_another_master_are_not_siblings() -> None:
    world = host(ns0=[slave('ipvl0')], ns1=[slave('ipvl1', master=ETH1, ifindex=11)])
    the_plan = ipvlan_plan(world, IpvlanSpec('ipvl0', master='eth0', mode='l2'))
    assert the_plan.actions == [SetIpvlanPort('ns0', name='ipvl0', mode='l2', flags='bridge', port=(ROOT, 2))]
    assert the_plan.after.get('ns1').links['ipvl1'].ipvlan_mode == 'l3'


# --- new slaves on a port that has some -----------------------------------------------

def test_new_slave_in_the_ports_mode() -> None:
    world = host(ns1=[slave('ipvl1', mode='l2', ifindex=11)])
    the_plan = ipvlan_plan(world, IpvlanSpec('ipvl0', master='eth0', mode='l2'))
    assert [type(a) for a in the_plan.actions] == [CreateIpvlan]


def test_new_slave_in_another_mode_fails() -> None:
    world = host(ns1=[slave('ipvl1', mode='l2', ifindex=11)])
    with pytest.raises(TaskError, match=r'^mode: ipvl0 asks for mode l3 bridge.*ipvl1 in namespace ns1'):
        ipvlan_plan(world, IpvlanSpec('ipvl0', master='eth0'))


def test_new_slave_in_another_mode_with_allow_port_change() -> None:
    world = host(ns1=[slave('ipvl1', mode='l2', ifindex=11)])
    the_plan = ipvlan_plan(world, IpvlanSpec('ipvl0', master='eth0', allow_port_change=True))
    assert [type(a) for a in the_plan.actions] == [CreateIpvlan, SetIpvlanPort]
    assert the_plan.actions[1].siblings == (('ns1', 'ipvl1'),)
    assert {ns: the_plan.after.get(ns).links[name].ipvlan_mode for ns, name in [('ns0', 'ipvl0'), ('ns1', 'ipvl1')]} \
        == {'ns0': 'l3', 'ns1': 'l3'}


def test_two_specs_with_different_modes_on_one_master_fail() -> None:
    specs = [NamespaceSpec('ns0', ipvlans=(IpvlanSpec('ipvl0', master='eth0', mode='l2'),)),
             NamespaceSpec('ns1', ipvlans=(IpvlanSpec('ipvl1', master='eth0', mode='l3'),))]
    with pytest.raises(TaskError, match=r'^mode: ipvl0 asks for mode l2 bridge and ipvl1 for mode l3 bridge, but both '
                                        r'are slaves of eth0'):
        plan(specs, host())


def test_two_specs_with_different_modes_on_existing_slaves_fail() -> None:
    world = host(ns0=[slave('ipvl0', mode='l2')], ns1=[slave('ipvl1', mode='l2', ifindex=11)])
    specs = [NamespaceSpec('ns0', ipvlans=(IpvlanSpec('ipvl0', master='eth0', mode='l2'),)),
             NamespaceSpec('ns1', ipvlans=(IpvlanSpec('ipvl1', master='eth0', mode='l3'),))]
    with pytest.raises(TaskError, match='declare one mode for all its slaves'):
        plan(specs, world)


def test_a_port_change_is_not_undone_by_a_later_spec() -> None:
    # ipvl0 alone flips the port to l2; ipvl1 then asks for the old l3 and must not flip it back silently.
    world = host(ns0=[slave('ipvl0')])
    specs = [NamespaceSpec('ns0', ipvlans=(IpvlanSpec('ipvl0', master='eth0', mode='l2'),)),
             NamespaceSpec('ns1', ipvlans=(IpvlanSpec('ipvl1', master='eth0', mode='l3'),))]
    with pytest.raises(TaskError, match=r'^mode: ipvl0 asks for mode l2 bridge and ipvl1 for mode l3'):
        plan(specs, world)


def test_two_specs_with_the_same_mode_on_one_master() -> None:
    specs = [NamespaceSpec('ns0', ipvlans=(IpvlanSpec('ipvl0', master='eth0', mode='l2'),)),
             NamespaceSpec('ns1', ipvlans=(IpvlanSpec('ipvl1', master='eth0', mode='l2'),))]
    the_plan = plan(specs, host())
    assert the_plan.describe() == [
        'create ipvlan ipvl0 on eth0 (the root namespace), mode l2 bridge in namespace ns0',
        'create ipvlan ipvl1 on eth0 (the root namespace), mode l2 bridge in namespace ns1',
    ]


# --- identity drift -------------------------------------------------------------------

VETH = Link('ipvl0', ifindex=10, kind='veth', up=True)

DRIFT: list[tuple[str, Link, str]] = [
    ('other-kind', VETH, r'^name: ipvl0 in namespace ns0 is a veth link, not an ipvlan; set recreate: true'),
    ('plain-link', replace(VETH, kind=None), r'^name: ipvl0 in namespace ns0 is a plain link, not an ipvlan'),
    ('other-master', slave('ipvl0', master=ETH1),
     r'^name: ipvl0 in namespace ns0 has another master \(eth1 in the root namespace\); set recreate: true'),
    ('same-name-master-in-other-namespace', replace(slave('ipvl0'), master_netns='ns1'),
     r'^name: ipvl0 in namespace ns0 has another master \(ifindex 2 in namespace ns1\)'),
]


@pytest.mark.parametrize('current, message', [c[1:] for c in DRIFT], ids=[c[0] for c in DRIFT])
def test_drift_that_cannot_change_in_place_fails(current: Link, message: str) -> None:
    with pytest.raises(TaskError, match=message):
        ipvlan_plan(host(ns0=[current]), IpvlanSpec('ipvl0', master='eth0'))


@pytest.mark.parametrize('current', [c[1] for c in DRIFT], ids=[c[0] for c in DRIFT])
def test_drift_with_recreate(current: Link) -> None:
    the_plan = ipvlan_plan(host(ns0=[current]), IpvlanSpec('ipvl0', master='eth0', mode='l2', recreate=True))
    assert [type(a) for a in the_plan.actions] == [DeleteLink, CreateIpvlan]
    assert the_plan.actions[0] == DeleteLink('ns0', name='ipvl0')
    assert the_plan.describe()[0] == 'delete link ipvl0 in namespace ns0'
    link = the_plan.after.get('ns0').links['ipvl0']
    assert (link.kind, link.master_index, link.ipvlan_mode) == ('ipvlan', 2, 'l2')


def test_recreate_does_nothing_to_a_matching_slave() -> None:
    the_plan = ipvlan_plan(host(ns0=[slave('ipvl0')]), IpvlanSpec('ipvl0', master='eth0', recreate=True))
    assert the_plan.actions == []


# --- a slave left next to its master (the HOWTO's step b) -----------------------------

def test_slave_next_to_its_master_is_moved() -> None:
    the_plan = ipvlan_plan(host(root=[slave('ipvl0')]), IpvlanSpec('ipvl0', master='eth0'))
    assert the_plan.actions == [MoveLink(ROOT, name='ipvl0', to_netns='ns0')]
    assert the_plan.describe() == ['move ipvl0 from the root namespace to namespace ns0']
    assert 'ipvl0' not in the_plan.after.get(ROOT).links
    moved = the_plan.after.get('ns0').links['ipvl0']
    assert (moved.kind, moved.up, moved.master_netns) == ('ipvlan', False, ROOT)
    before, after = diff(the_plan)
    assert 'ipvl0' in before['(root)']['links'] and 'links' not in after['(root)']
    assert 'links' not in before['ns0'] and after['ns0']['links']['ipvl0']['master'] == 'eth0'


def test_moved_slave_gets_its_mode_and_admin_state() -> None:
    the_plan = ipvlan_plan(host(root=[slave('ipvl0')]), IpvlanSpec('ipvl0', master='eth0', mode='l2', up=True))
    assert [type(a) for a in the_plan.actions] == [MoveLink, SetIpvlanPort, SetLink]
    assert the_plan.actions[2] == SetLink('ns0', name='ipvl0', up=True)


def test_same_name_on_another_master_next_to_it_is_not_moved() -> None:
    the_plan = ipvlan_plan(host(root=[slave('ipvl0', master=ETH1)]), IpvlanSpec('ipvl0', master='eth0'))
    assert [type(a) for a in the_plan.actions] == [CreateIpvlan]
    assert the_plan.after.get(ROOT).links['ipvl0'].master_index == 3


def test_same_name_of_another_kind_next_to_the_master_is_not_moved() -> None:
    the_plan = ipvlan_plan(host(root=[VETH]), IpvlanSpec('ipvl0', master='eth0'))
    assert [type(a) for a in the_plan.actions] == [CreateIpvlan]


# --- removal --------------------------------------------------------------------------

def test_absent_deletes_the_ipvlan() -> None:
    the_plan = ipvlan_plan(host(ns0=[slave('ipvl0')]), IpvlanSpec('ipvl0', present=False))
    assert the_plan.actions == [DeleteLink('ns0', name='ipvl0')]
    assert diff(the_plan) == (
        {'ns0': {'state': 'present', 'links': {'ipvl0': {
            'state': 'up', 'mtu': 1500, 'kind': 'ipvlan', 'mode': 'l3', 'flags': 'bridge', 'master': 'eth0'}}}},
        {'ns0': {'state': 'present'}},
    )


def test_absent_when_already_gone() -> None:
    assert ipvlan_plan(host(root=[slave('ipvl0')]), IpvlanSpec('ipvl0', present=False)).actions == []


def test_absent_leaves_other_kinds_alone() -> None:
    with pytest.raises(TaskError, match=r'^name: ipvl0 in namespace ns0 is a veth link, not an ipvlan; '
                                        r'it is left alone'):
        ipvlan_plan(host(ns0=[VETH]), IpvlanSpec('ipvl0', present=False))


def test_absent_needs_no_master() -> None:
    # The master may be gone already (its slaves with it, or not): removal never looks at it.
    world = host(ns0=[slave('ipvl0', master=replace(ETH0, ifindex=99))])
    assert ipvlan_plan(world, IpvlanSpec('ipvl0', present=False)).actions == [DeleteLink('ns0', name='ipvl0')]


# --- addresses moving between slaves of one master ---------------------------------------

def test_address_moving_between_slaves_is_deleted_before_it_is_added() -> None:
    # The kernel refuses an address another slave of the same master holds (EADDRINUSE): whatever
    # the order of the specs, every deletion comes before any addition.
    world = host(ns0=[slave('ipvl0')], ns1=[slave('ipvl1', ifindex=11)])
    moving = ip('198.51.100.11/24')
    world.namespaces['ns1'].addresses.append(Address('ipvl1', moving))
    specs = [NamespaceSpec('ns0', addresses=(AddressesSpec('ipvl0', (moving,)),)),
             NamespaceSpec('ns1', addresses=(AddressesSpec('ipvl1', (ip('198.51.100.12/24'),), purge=True),))]
    the_plan = plan(specs, world)
    assert the_plan.describe() == [
        'delete address 198.51.100.11/24 from ipvl1 in namespace ns1',
        'add address 198.51.100.11/24 to ipvl0 in namespace ns0',
        'add address 198.51.100.12/24 to ipvl1 in namespace ns1',
    ]


def test_existing_slave_on_a_down_master_is_left_alone() -> None:
    """Only creating a slave on a down master is refused: a master going down later must not make runs fail."""
    world = host(ns0=[slave('ipvl0', master=ETH1, mode='l2')])
    assert ipvlan_plan(world, IpvlanSpec('ipvl0', master='eth1', mode='l2')).actions == []


def test_an_ip_already_on_a_sibling_slave_is_refused_naming_it() -> None:
    world = host(ns0=[slave('ipvl0')], ns1=[slave('ipvl1', ifindex=11)])
    world.get('ns1').addresses.append(Address('ipvl1', ipaddress.ip_interface('198.51.100.12/24')))
    spec = NamespaceSpec('ns0', addresses=(AddressesSpec('ipvl0', (ipaddress.ip_interface('198.51.100.12/24'),)),))
    with pytest.raises(TaskError, match=r'^addresses: 198.51.100.12 is already on ipvl1 in namespace ns1, another '
                                        r'slave of the same master'):
        plan([spec], world)


def test_an_ip_moving_between_sibling_slaves_in_one_task_is_planned() -> None:
    world = host(ns0=[slave('ipvl0')], ns1=[slave('ipvl1', ifindex=11)])
    world.get('ns1').addresses.append(Address('ipvl1', ipaddress.ip_interface('198.51.100.12/24')))
    specs = [NamespaceSpec('ns1', addresses=(AddressesSpec('ipvl1', (), purge=True),)),
             NamespaceSpec('ns0', addresses=(AddressesSpec('ipvl0', (ipaddress.ip_interface('198.51.100.12/24'),)),))]
    assert plan(specs, world).describe() == ['delete address 198.51.100.12/24 from ipvl1 in namespace ns1',
                                             'add address 198.51.100.12/24 to ipvl0 in namespace ns0']
