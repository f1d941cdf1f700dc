# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The topology module's pure parts: specs from its parameters, and purge of what carries our marker."""

from __future__ import annotations

import ipaddress
import re
import typing as t
from dataclasses import replace

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._actions import (
    AddAddress,
    AddRoute,
    CreateIpvlan,
    CreateNetns,
    DeleteLink,
    DeleteNetns,
    SetLink,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    DEFAULT_OWNER,
    MANAGED_ALIAS,
    ROOT,
    Address,
    IpvlanSpec,
    Link,
    Namespace,
    NamespaceSpec,
    World,
    marker,
    marker_owner,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import IFALIASZ
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import OWNER_MAX, check_owner
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._planner import plan
from ansible_collections.linuxnet.ipvlan.plugins.modules.topology import namespace_spec, purge_specs

OURS = marker(DEFAULT_OWNER)   # what topology writes by default: managed-by=linuxnet.ipvlan owner=default
ETH0 = Link('eth0', ifindex=2, up=True, mtu=1500, mac='52:54:00:00:01:01')


def lo(managed: bool) -> Link:
    return Link('lo', ifindex=1, up=True, mtu=65536, alias=MANAGED_ALIAS if managed else None)


def slave(name: str, managed: bool, mode: str = 'l2', ifindex: int = 10) -> Link:
    return Link(name, ifindex=ifindex, kind='ipvlan', up=True, master_index=2, master_netns=ROOT,
                ipvlan_mode=mode, ipvlan_flags='bridge', alias=MANAGED_ALIAS if managed else None)


def namespace(name: t.Optional[str], *links: Link, addresses: t.Iterable[Address] = ()) -> Namespace:
    return Namespace(name, links={link.name: link for link in links}, addresses=list(addresses))


def world(*namespaces: Namespace) -> World:
    return World(namespaces={ns.name: ns for ns in namespaces})


def entry(name: str, ipvlans: t.Iterable[dict[str, t.Any]] = (), routes: t.Iterable[dict[str, t.Any]] = (),
          state: str = 'present', lo: bool = True) -> dict[str, t.Any]:
    """One item of the module's ``namespaces`` option, with the defaults AnsibleModule fills in."""
    def ipvlan(item: dict[str, t.Any]) -> dict[str, t.Any]:
        full: dict[str, t.Any] = dict(master_netns=None, mode='l3', flags='bridge', mtu=None, admin_state='up',
                                      addresses=[], nodad=False)
        full.update(item)
        return full

    def route(item: dict[str, t.Any]) -> dict[str, t.Any]:
        full: dict[str, t.Any] = dict(gateway=None, dev=None, family=None, metric=None, table=None, scope=None,
                                      onlink=False)
        full.update(item)
        return full

    return dict(name=name, state=state, lo=lo, ipvlans=[ipvlan(i) for i in ipvlans], routes=[route(r) for r in routes])


# --- purge ----------------------------------------------------------------------------

PURGE_WORLD = world(
    namespace(ROOT, lo(False), ETH0, slave('old0', managed=True), slave('hand0', managed=False, ifindex=11)),
    namespace('ns0', lo(True), slave('ipvl0', managed=True), slave('ipvl9', managed=True, ifindex=12),
              slave('ipvl8', managed=False, ifindex=13)),
    namespace('ns-old', lo(True), slave('ipvlo', managed=True)),
    namespace('ns-foreign', lo(False), slave('ipvlf', managed=False)),
    namespace('ns-gone', lo(True)),
)


def test_purge_specs_remove_only_what_is_marked() -> None:
    declared = [NamespaceSpec('ns0', ensure='present', ipvlans=(IpvlanSpec('ipvl0', master='eth0', mode='l2'),)),
                NamespaceSpec('ns-gone', ensure='absent')]
    assert purge_specs(PURGE_WORLD, declared) == [
        NamespaceSpec(ROOT, ipvlans=(IpvlanSpec('old0', present=False),)),
        NamespaceSpec('ns-old', ensure='absent'),
        NamespaceSpec('ns0', ipvlans=(IpvlanSpec('ipvl9', present=False),)),
    ]


def test_purge_plan() -> None:
    declared = [NamespaceSpec('ns0', ensure='present', ipvlans=(IpvlanSpec('ipvl0', master='eth0', mode='l2'),)),
                NamespaceSpec('ns-gone', ensure='absent')]
    the_plan = plan(declared + purge_specs(PURGE_WORLD, declared), PURGE_WORLD)
    assert sorted(the_plan.describe()) == sorted([
        'delete link ipvl9 in namespace ns0',
        'delete link old0 in the root namespace',
        'delete namespace ns-gone',
        'delete namespace ns-old',
    ])
    after = the_plan.after
    assert set(after.get(ROOT).links) == {'lo', 'eth0', 'hand0'}
    assert set(after.get('ns0').links) == {'lo', 'ipvl0', 'ipvl8'}
    assert after.get('ns-foreign').exists and not after.get('ns-old').exists


def test_purge_nothing_to_do() -> None:
    current = world(namespace(ROOT, lo(False), ETH0), namespace('ns0', lo(True), slave('ipvl0', managed=True)),
                    namespace('ns1', lo(False)))
    declared = [NamespaceSpec('ns0', ensure='present', ipvlans=(IpvlanSpec('ipvl0', master='eth0'),))]
    assert purge_specs(current, declared) == []


def test_purge_leaves_a_namespace_without_a_name_alone() -> None:
    """Marked by us, then its name removed while a process still ran in it: a process holds it now."""
    current = world(namespace(ROOT, lo(False), ETH0),
                    namespace('/proc/4321/ns/net', lo(True), slave('ipvl0', managed=True)))
    assert purge_specs(current, []) == []


# --- owners: purge removes only what carries its own owner -------------------------------

def owned(link: Link, owner: t.Optional[str]) -> Link:
    return replace(link, alias=marker(owner) if owner else None)


# Two scopes on one host (a, b), objects from before owners (bare marker: the default owner's),
# and another tool's namespace and slave without any marker.
OWNERS_WORLD = world(
    namespace(ROOT, lo(False), ETH0, owned(slave('ra', True), 'a'), owned(slave('rb', True, ifindex=11), 'b'),
              slave('rold', managed=True, ifindex=12), slave('rhand', managed=False, ifindex=13)),
    namespace('na', owned(lo(True), 'a'), owned(slave('sa', True, ifindex=20), 'a'),
              owned(slave('sb', True, ifindex=21), 'b')),
    namespace('nb', owned(lo(True), 'b')),
    namespace('nold', lo(True)),
    namespace('nhand', lo(False)),
)


@pytest.mark.parametrize('owner, removed', [
    # na is a's, but b's slave sb lives in it: only a's slave goes, the namespace stays.
    ('a', ['delete link ra in the root namespace', 'delete link sa in namespace na']),
    ('b', ['delete link rb in the root namespace', 'delete link sb in namespace na', 'delete namespace nb']),
    (DEFAULT_OWNER, ['delete link rold in the root namespace', 'delete namespace nold']),
    ('c', []),
])
def test_purge_removes_only_its_owners_objects(owner: str, removed: list[str]) -> None:
    # Nothing declared: everything this owner marked goes, nothing else does.
    the_plan = plan(purge_specs(OWNERS_WORLD, [], owner), OWNERS_WORLD)
    assert sorted(the_plan.describe()) == sorted(removed)


def test_declaring_takes_an_object_over_and_rewrites_its_marker() -> None:
    spec = namespace_spec(entry('nb', lo=True), 'namespaces[0].', False, marker('a'))
    the_plan = plan([spec] + purge_specs(OWNERS_WORLD, [spec], 'a'), OWNERS_WORLD)
    assert SetLink('nb', name='lo', alias=marker('a')) in the_plan.actions
    assert 'delete namespace nb' not in the_plan.describe()


@pytest.mark.parametrize('alias, owner', [
    (MANAGED_ALIAS, DEFAULT_OWNER),          # 0.1.0's marker
    (marker('default'), 'default'),
    (marker('tenant-b.1'), 'tenant-b.1'),
    (None, None),
    ('', None),
    ('managed-by=linuxnet.ipvlanx', None),
    (MANAGED_ALIAS + ' owner=', None),
    (MANAGED_ALIAS + ' owner=a b', None),
    ('uplink to the core', None),
])
def test_marker_owner(alias: t.Optional[str], owner: t.Optional[str]) -> None:
    assert marker_owner(alias) == owner
    assert Link('x', alias=alias).managed is (owner is not None)


@pytest.mark.parametrize('value', ['a', 'default', 'tenant-b', 'Team_1.prod', 'x' * OWNER_MAX])
def test_check_owner_accepts(value: str) -> None:
    assert check_owner(value, 'owner') == value
    assert len(marker(value).encode()) <= IFALIASZ - 1


@pytest.mark.parametrize('value, message', [
    ('', 'must not be empty'),
    ('a b', "only letters, digits"),
    ('a=b', "only letters, digits"),
    ('t\u00e9', "only letters, digits"),
    ('x' * (OWNER_MAX + 1), '%d characters long; the interface alias that carries it allows %d'
     % (OWNER_MAX + 1, OWNER_MAX)),
])
def test_check_owner_rejects(value: str, message: str) -> None:
    with pytest.raises(TaskError, match='^namespaces_owner: .*' + re.escape(message)):
        check_owner(value, 'namespaces_owner')


# --- namespace_spec: the module's parameters to specs ------------------------------------

HOWTO_NS0 = entry('ns0', ipvlans=[dict(name='ipvl0', master='eth0', mode='l2', addresses=['198.51.100.11/24'])],
                  routes=[dict(dst='default', gateway='198.51.100.1')])


def test_howto_namespace_on_a_fresh_host() -> None:
    spec = namespace_spec(HOWTO_NS0, 'namespaces[0].', False)
    the_plan = plan([spec], world(namespace(ROOT, lo(False), ETH0)))
    ip = ipaddress.ip_interface
    assert [type(a) for a in the_plan.actions] == [CreateNetns, CreateIpvlan, SetLink, SetLink, AddAddress, AddRoute]
    assert the_plan.actions[2:5] == [
        SetLink('ns0', name='lo', up=True, alias=OURS),
        SetLink('ns0', name='ipvl0', up=True, alias=OURS),
        AddAddress('ns0', dev='ipvl0', ip=ip('198.51.100.11/24')),
    ]
    assert the_plan.describe()[-1] == 'add route default via 198.51.100.1 dev ipvl0 in namespace ns0'
    # Run again on what it predicted: nothing left to do.
    assert plan([spec], the_plan.after).actions == []


def test_namespace_spec_absent_ignores_the_rest() -> None:
    assert namespace_spec(entry('ns0', state='absent', ipvlans=[dict(name='x' * 20, master='eth0')]), 'p.', False) \
        == NamespaceSpec('ns0', ensure='absent')


def test_namespace_spec_purges_addresses_and_routes() -> None:
    spec = namespace_spec(HOWTO_NS0, 'namespaces[0].', True)
    assert spec.purge_routes
    assert [(a.dev, a.purge) for a in spec.addresses] == [('ipvl0', True), ('lo', False)]
    assert spec.ipvlans[0].allow_port_change and spec.ipvlans[0].marker == OURS


@pytest.mark.parametrize('item, message', [
    (entry('ns\t0'), r'^namespaces\[3\]\.name: .*control'),
    (entry('ns0', ipvlans=[dict(name='ipvl0', master='ipvl0', master_netns='ns0')]),
     r'^namespaces\[3\]\.ipvlans\[0\]\.master: '),
    (entry('ns0', ipvlans=[dict(name='ipvl0', master='eth0', addresses=['10.0.0.1'])]),
     r'^namespaces\[3\]\.ipvlans\[0\]\.addresses: '),
    (entry('ns0', ipvlans=[dict(name='ipvl0', master='eth0'), dict(name='ipvl0', master='eth0')]),
     r'^namespaces\[3\]\.ipvlans: ipvl0 is declared twice'),
    (entry('ns0', routes=[dict(dst='default'), dict(dst='default', gateway='2001:db8::1', onlink=True)]),
     r'^namespaces\[3\]\.routes\[0\]\.gateway: '),
], ids=['netns-name', 'own-master', 'not-cidr', 'duplicate', 'route'])
def test_namespace_spec_rejects(item: dict[str, t.Any], message: str) -> None:
    with pytest.raises(TaskError, match=message):
        namespace_spec(item, 'namespaces[3].', False)


# --- purge and what is declared instead -------------------------------------------------

def renamed_namespace_world(mode: str) -> World:
    """ns-old, made by an earlier run, holds the slave and address now declared in ns0."""
    return world(namespace(ROOT, lo(False), ETH0),
                 namespace('ns-old', lo(True), slave('ipvlo', managed=True, mode=mode),
                           addresses=[Address('ipvlo', ipaddress.ip_interface('198.51.100.11/24'))]))


def purge_plan(current: World, *entries: dict[str, t.Any]) -> t.Any:
    specs = [namespace_spec(item, 'namespaces[%d].' % index, False) for index, item in enumerate(entries)]
    return plan(specs + purge_specs(current, specs), current)


def test_purged_namespace_goes_before_its_address_is_reused() -> None:
    # The kernel refuses an address another slave of the same master holds (EADDRINUSE):
    # the namespace being purged must be gone before the address is added elsewhere.
    the_plan = purge_plan(renamed_namespace_world('l2'), HOWTO_NS0)
    kinds = [type(a) for a in the_plan.actions]
    assert DeleteNetns('ns-old') in the_plan.actions
    assert kinds.index(DeleteNetns) < kinds.index(AddAddress)


def test_purged_namespace_is_no_sibling() -> None:
    # The only other slave of eth0 runs l3, but it goes with its namespace: no port conflict.
    the_plan = purge_plan(renamed_namespace_world('l3'), HOWTO_NS0)
    assert DeleteNetns('ns-old') in the_plan.actions
    assert the_plan.after.get('ns0').links['ipvl0'].ipvlan_mode == 'l2'


def test_purged_slave_is_no_sibling() -> None:
    current = world(namespace(ROOT, lo(False), ETH0), namespace('ns0', lo(True), slave('ipvl9', managed=True,
                                                                                       mode='l3')))
    the_plan = purge_plan(current, HOWTO_NS0)
    assert the_plan.actions[:2] == [
        DeleteLink('ns0', name='ipvl9'),
        CreateIpvlan('ns0', name='ipvl0', master='eth0', master_index=2, master_netns=ROOT, mode='l2',
                     flags='bridge', mtu=None, master_mtu=1500, mac=ETH0.mac),
    ]
