# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Namespaces given by path: the parameter, one key per namespace, the sibling guard, moving a link in.

The host of these tests: eth0 in the root namespace, a named namespace ns0, and two namespaces
without a name: "c1", reached by /proc/7/ns/net (its process) and /run/docker/netns/c1 (a
container runtime's bind mount), and "c2", reached by /proc/9/ns/net.
"""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._actions import MoveLink, SetIpvlanPort, SetLink
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    ROOT,
    IpvlanSpec,
    Leftover,
    Link,
    LinkSpec,
    Namespace,
    NamespaceSpec,
    World,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import (
    PATH_MAX,
    check_ipvlan,
    check_netns_name,
    check_netns_ref,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._planner import plan

# --- the parameter ---------------------------------------------------------------


@pytest.mark.parametrize('value, expected', [
    (None, ROOT),
    ('ns0', 'ns0'),
    ('/proc/1234/ns/net', '/proc/1234/ns/net'),
    ('/run/docker/netns/0123456789ab', '/run/docker/netns/0123456789ab'),
    ('/run/netns/ns0', '/run/netns/ns0'),
    ('/', '/'),   # a directory: the read says so (see the host tests)
], ids=['omitted', 'name', 'proc', 'runtime', 'run-netns', 'root-dir'])
def test_check_netns_ref_takes_a_name_or_a_path(value: t.Any, expected: t.Any) -> None:
    assert check_netns_ref(value, 'netns') == expected


@pytest.mark.parametrize('value, message', [
    ('a/b', 'must not contain'),           # not leading: a bad name, not a path
    ('../proc/1/ns/net', 'must not contain'),
    ('/proc/1/ns/net\0', 'must not contain NUL'),
    ('/' + 'x' * PATH_MAX, 'Linux allows 4095'),
    ('', 'must not be empty'),
], ids=['slash-inside', 'relative', 'nul', 'too-long', 'empty'])
def test_check_netns_ref_rejects(value: str, message: str) -> None:
    with pytest.raises(TaskError) as exc:
        check_netns_ref(value, 'netns')
    assert exc.value.msg.startswith('netns: ') and message in exc.value.msg


@pytest.mark.parametrize('create', [False, True])
def test_a_name_option_refuses_a_path_and_says_why(create: bool) -> None:
    with pytest.raises(TaskError) as exc:
        check_netns_name('/proc/1234/ns/net', 'name', create=create)
    assert exc.value.msg == ("name: /proc/1234/ns/net is a path, and name takes a name: a namespace given by path "
                             "(a process's, a container runtime's) belongs to whoever holds it, and this collection "
                             "never creates or removes one")


def test_ipvlan_takes_paths_for_both_namespaces() -> None:
    netns, fields = check_ipvlan({'name': 'ipvl0', 'master': 'eth0', 'netns': '/proc/7/ns/net',
                                  'master_netns': '/proc/9/ns/net', 'mode': 'l2', 'flags': 'bridge'})
    assert netns == '/proc/7/ns/net' and fields['master_netns'] == '/proc/9/ns/net'


# --- one key per namespace ---------------------------------------------------------

ETH0 = Link('eth0', ifindex=2, up=True, mtu=1500, mac='52:54:00:00:01:01')
LO = Link('lo', ifindex=1, up=True, mtu=65536)
IDENTITY = {ROOT: (3, 1), 'ns0': (3, 2), '/run/netns/ns0': (3, 2), '/proc/1/ns/net': (3, 1),
            '/proc/7/ns/net': (3, 7), '/run/docker/netns/c1': (3, 7), '/proc/8/ns/net': (3, 7),
            '/proc/9/ns/net': (3, 9)}


def slave(name: str, mode: str = 'l3', ifindex: int = 10) -> Link:
    return Link(name, ifindex=ifindex, kind='ipvlan', up=True, master_index=ETH0.ifindex, master_netns=ROOT,
                ipvlan_mode=mode, ipvlan_flags='bridge')


def host(c1: t.Iterable[Link] = (), c2: t.Iterable[Link] = (), root: t.Iterable[Link] = ()) -> World:
    """The host, read through a loader as the session reads it: by whichever reference is the key."""
    contents = {(3, 1): [LO, ETH0, *root], (3, 2): [LO], (3, 7): [LO, *c1], (3, 9): [LO, *c2]}

    def load(key: t.Any) -> Namespace:
        identity = IDENTITY.get(key)
        if identity is None:
            return Namespace(key, exists=False)
        return Namespace(key, links={link.name: link for link in contents[identity]})

    found = ['/proc/1/ns/net', '/proc/7/ns/net', '/proc/9/ns/net', '/proc/11/ns/net']   # 11 has ended since
    return World(loader=load, names=lambda: ['ns0'], unnamed=lambda: found, identify=IDENTITY.get)


def test_every_reference_to_a_namespace_is_one_key() -> None:
    world = host()
    assert world.key('/run/netns/ns0') == 'ns0'            # a name wins
    assert world.key('/proc/1/ns/net') is ROOT             # so does the module's own namespace
    assert world.key('/run/docker/netns/c1') == '/run/docker/netns/c1'   # first used, first key
    assert world.key('/proc/7/ns/net') == '/run/docker/netns/c1'
    assert world.get('/proc/8/ns/net') is world.get('/run/docker/netns/c1')
    assert world.names() == [ROOT, '/proc/9/ns/net', '/run/docker/netns/c1', 'ns0']


def test_a_missing_path_is_its_own_key_and_does_not_exist() -> None:
    world = host()
    assert world.key('/proc/999/ns/net') == '/proc/999/ns/net'
    assert not world.get('/proc/999/ns/net').exists


def test_the_copy_shares_the_keys() -> None:
    world = host()
    world.key('/run/docker/netns/c1')
    assert world.copy().key('/proc/7/ns/net') == '/run/docker/netns/c1'


# --- the sibling guard sees slaves in unnamed namespaces ---------------------------

def test_a_slave_in_an_unnamed_namespace_is_a_sibling_and_named() -> None:
    world = host(c1=[slave('ipvl0', mode='l3')])
    with pytest.raises(TaskError) as exc:
        plan([NamespaceSpec('ns0', ipvlans=(IpvlanSpec('ipvl1', master='eth0', mode='l2'),))], world)
    assert 'already runs mode l3 bridge for ipvl0 in namespace /proc/7/ns/net' in exc.value.msg


def test_a_slave_given_by_another_path_is_not_its_own_sibling() -> None:
    """Its namespace found through /proc/7 and given by the runtime's path: one slave, no sibling."""
    world = host(c1=[slave('ipvl0', mode='l3')])
    world.names()   # the guard's listing first: /proc/7/ns/net becomes the key
    wanted = IpvlanSpec('ipvl0', master='eth0', mode='l2')
    the_plan = plan([NamespaceSpec('/run/docker/netns/c1', ipvlans=(wanted,))], world)
    assert the_plan.actions == [SetIpvlanPort('/proc/7/ns/net', name='ipvl0', mode='l2', flags='bridge',
                                              port=(ROOT, 2), siblings=())]


def test_allow_port_change_lists_the_unnamed_sibling() -> None:
    world = host(c1=[slave('ipvl0')], c2=[slave('ipvl1', ifindex=11)])
    the_plan = plan([NamespaceSpec('/proc/9/ns/net', ipvlans=(IpvlanSpec('ipvl1', master='eth0', mode='l2',
                                                                         allow_port_change=True),))], world)
    assert the_plan.actions[0].siblings == (('/proc/7/ns/net', 'ipvl0'),)
    assert the_plan.describe() == ['set ipvlan port of ipvl1 in namespace /proc/9/ns/net to mode l2 bridge '
                                   '(shared with ipvl0 in /proc/7/ns/net)']


# --- paths that are no namespace, and a link moved in -------------------------------

def test_a_path_that_is_no_namespace_is_refused_in_check_mode_too() -> None:
    directory = Namespace('/tmp', exists=False, leftover=Leftover('a directory'))
    world = World(namespaces={ROOT: Namespace(ROOT), '/tmp': directory})
    for assume in (False, True):
        with pytest.raises(TaskError) as exc:
            plan([NamespaceSpec('/tmp', links=(LinkSpec('lo', up=True),))], world, assume=assume)
        assert exc.value.msg.startswith('netns: /tmp is a directory, not a network namespace')


def test_a_missing_path_is_never_created() -> None:
    world = World(namespaces={ROOT: Namespace(ROOT)})
    with pytest.raises(TaskError) as exc:
        plan([NamespaceSpec('/proc/999/ns/net', links=(LinkSpec('lo', up=True),))], world)
    assert 'never created here' in exc.value.msg
    assumed = plan([NamespaceSpec('/proc/999/ns/net', links=(LinkSpec('lo', up=True),))], world, assume=True)
    assert 'never created here' in assumed.warnings[0]


def test_a_link_is_moved_in_once() -> None:
    veth = Link('veth1', ifindex=5, kind='veth', up=False, master_index=6, master_netns=ROOT)
    world = host(root=[veth])
    spec = NamespaceSpec('/proc/7/ns/net', links=(LinkSpec('veth1', up=True, move=True),))
    the_plan = plan([spec], world)
    assert the_plan.actions == [MoveLink(ROOT, name='veth1', to_netns='/proc/7/ns/net'),
                                SetLink('/proc/7/ns/net', name='veth1', up=True)]
    assert 'veth1' not in the_plan.after.get(ROOT).links
    assert plan([spec], the_plan.after).actions == []


def test_a_link_to_move_that_is_nowhere_is_missing() -> None:
    with pytest.raises(TaskError) as exc:
        plan([NamespaceSpec('/proc/7/ns/net', links=(LinkSpec('veth9', move=True),))], host())
    assert exc.value.msg == 'name: link veth9 not found in namespace /proc/7/ns/net nor in the root namespace'


def test_two_names_on_one_namespace_stay_two() -> None:
    """Created and removed by name: a name stacked on another's namespace is never that other name."""
    identity = {**IDENTITY, 'ns9': (3, 2)}
    world = World(loader=Namespace, names=lambda: ['ns0', 'ns9'], identify=identity.get)
    assert [world.key('ns0'), world.key('ns9')] == ['ns0', 'ns9']
    assert world.names() == [ROOT, 'ns0', 'ns9']
    assert world.key('/run/netns/ns0') == 'ns0'
