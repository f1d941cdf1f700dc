# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Plan truth: check-mode assumptions, validation before acting, and verify-after-apply.

The converge tests drive the runner with a stand-in kernel whose behaviour they choose: a
kernel that disobeys a prediction, or another process racing us, cannot be caused on
demand for real.  The host tests prove the same loop against the real kernel.
"""

from __future__ import annotations

import errno
import ipaddress
import typing as t

import pytest

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._actions import AddAddress, AddRoute, CreateNetns, SetLink
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    ROOT,
    Address,
    AddressesSpec,
    IpvlanSpec,
    Link,
    LinkSpec,
    Namespace,
    NamespaceSpec,
    Route,
    RouteSpec,
    World,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._planner import plan
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._runner import ConvergeError, converge

ip = ipaddress.ip_interface
net = ipaddress.ip_network
addr = ipaddress.ip_address


def root(*links: Link) -> Namespace:
    return Namespace(ROOT, links={link.name: link for link in (Link('lo', ifindex=1, up=True, mtu=65536),) + links})


def host(*namespaces: Namespace) -> World:
    return World(namespaces={ns.name: ns for ns in namespaces})


# --- check mode survives a play -----------------------------------------------------

def test_check_mode_assumes_a_namespace_an_earlier_task_creates() -> None:
    specs = [NamespaceSpec('ns0', links=(LinkSpec('lo', up=True),))]
    with pytest.raises(TaskError, match='namespace ns0 does not exist'):
        plan(specs, host(root()))
    the_plan = plan(specs, host(root()), assume=True)
    assert the_plan.describe() == ['set lo in namespace ns0 up']
    assert the_plan.warnings == ['netns: namespace ns0 does not exist; create it first (linuxnet.ipvlan.netns) '
                                 '(check mode assumes an earlier task of the play provides it)']


def test_check_mode_assumes_the_slave_an_earlier_task_creates() -> None:
    # The README's task-by-task HOWTO: the address task runs after the ipvlan task.
    specs = [NamespaceSpec('ns0', addresses=(AddressesSpec('ipvl0', (ip('198.51.100.11/24'),)),))]
    the_plan = plan(specs, host(root(), Namespace('ns0', links={'lo': Link('lo', ifindex=1)})), assume=True)
    assert the_plan.actions == [AddAddress('ns0', dev='ipvl0', ip=ip('198.51.100.11/24'))]
    assert len(the_plan.warnings) == 1 and 'link ipvl0 not found in namespace ns0' in the_plan.warnings[0]


def test_check_mode_assumes_a_master_brought_up_earlier() -> None:
    specs = [NamespaceSpec(ROOT, ipvlans=(IpvlanSpec('ipvl0', master='eth0', mode='l2'),))]
    world = host(root(Link('eth0', ifindex=2, up=False, mtu=1500)))
    with pytest.raises(TaskError, match='eth0 in the root namespace is down'):
        plan(specs, world)
    the_plan = plan(specs, world, assume=True)
    assert the_plan.describe() == ['create ipvlan ipvl0 on eth0, mode l2 bridge in the root namespace']
    assert 'is down' in the_plan.warnings[0]


def test_check_mode_assumes_a_route_device_and_gateway() -> None:
    route = Route(net('0.0.0.0/0'), gateway=addr('198.51.100.1'))
    the_plan = plan([NamespaceSpec('ns0', routes=(RouteSpec(route),))], host(root()), assume=True)
    assert [type(a) for a in the_plan.actions] == [AddRoute]
    assert any('not reachable' in w for w in the_plan.warnings)


# --- validate everything, then act --------------------------------------------------

def test_one_ip_on_two_slaves_of_one_master_is_refused_before_reading() -> None:
    specs = [NamespaceSpec(name, ipvlans=(IpvlanSpec(dev, master='eth0'),),
                           addresses=(AddressesSpec(dev, (ip('198.51.100.11/24'),)),))
             for name, dev in (('ns0', 'ipvl0'), ('ns1', 'ipvl1'))]
    with pytest.raises(TaskError, match=r'^addresses: 198.51.100.11/24 is declared for ipvl0 in namespace ns0 and '
                                        r'198.51.100.11/24 for ipvl1 in namespace ns1'):
        plan(specs, World(loader=_no_read))


def test_one_ip_in_two_namespaces_on_unrelated_links_is_fine() -> None:
    specs = [NamespaceSpec(name, ensure='present', addresses=(AddressesSpec('lo', (ip('127.0.0.1/8'),)),))
             for name in ('ns0', 'ns1')]
    assert plan(specs, host(root())).describe()[:2] == ['create namespace ns0', 'create namespace ns1']


def test_one_ip_with_two_prefix_lengths_is_refused() -> None:
    spec = NamespaceSpec('ns0', addresses=(AddressesSpec('d0', (ip('192.0.2.1/24'), ip('192.0.2.1/25'))),))
    with pytest.raises(TaskError, match='with one prefix length'):
        plan([spec], World(loader=_no_read))


def _no_read(name: t.Any) -> Namespace:
    raise AssertionError('validation must come before any read (%s)' % name)


# --- verify after apply -------------------------------------------------------------

class StandInKernel:
    """A session over a World; each action does what it predicts, unless told otherwise."""

    def __init__(self, world: World, disobey: t.Callable[[t.Any, World], bool] = lambda action, world: False,
                 fail: t.Optional[t.Callable[[t.Any], t.Optional[int]]] = None) -> None:
        self.state = world
        self.disobey = disobey
        self.fail = fail
        self.applied: list[t.Any] = []
        self.others: list[bool] = []   # what others_changed answers, pass by pass (then False)

    def world(self) -> World:
        return self.state.copy()

    def refresh(self) -> None:
        pass

    def others_changed(self) -> bool:
        return self.others.pop(0) if self.others else False

    def ipvlan_supported(self, may_load: bool) -> bool:
        return True

    def apply_one(self, action: t.Any) -> None:
        code = self.fail(action) if self.fail else None
        if code:
            raise TaskError('%s failed [errno %s]' % (action.describe(), code), errno=code)
        self.applied.append(action)
        if not self.disobey(action, self.state):
            action.predict(self.state)


def lo_up_spec() -> list[NamespaceSpec]:
    return [NamespaceSpec('ns0', ensure='present', links=(LinkSpec('lo', up=True),))]


def test_a_kept_prediction_converges_in_one_pass() -> None:
    kernel = StandInKernel(host(root()))
    outcome = converge(kernel, lambda world: lo_up_spec(), check_mode=False)
    assert outcome.changed and outcome.applied == kernel.applied
    assert [type(a) for a in kernel.applied] == [CreateNetns, SetLink]
    assert outcome.final.get('ns0').links['lo'].up


def test_a_broken_prediction_fails_and_names_what_is_left() -> None:
    kernel = StandInKernel(host(root()), disobey=lambda action, world: isinstance(action, SetLink))
    with pytest.raises(ConvergeError) as caught:
        converge(kernel, lambda world: lo_up_spec(), check_mode=False)
    assert 'a fresh read still needs: set lo in namespace ns0 up' in caught.value.msg
    assert caught.value.details['changed'] is True
    assert caught.value.details['applied'] == ['create namespace ns0', 'set lo in namespace ns0 up']


def test_check_mode_never_applies() -> None:
    kernel = StandInKernel(host(root()))
    outcome = converge(kernel, lambda world: lo_up_spec(), check_mode=True)
    assert outcome.changed and kernel.applied == []


def test_a_partial_failure_is_changed_and_names_the_failed_action() -> None:
    kernel = StandInKernel(host(root()), fail=lambda action: errno.EINVAL if isinstance(action, SetLink) else None)
    with pytest.raises(ConvergeError) as caught:
        converge(kernel, lambda world: lo_up_spec(), check_mode=False)
    assert caught.value.details['changed'] is True
    assert caught.value.details['applied'] == ['create namespace ns0']
    assert caught.value.details['failed'] == 'set lo in namespace ns0 up'


def test_a_race_is_re_read_and_converged() -> None:
    # Another process creates ns0 between our read and our request: EEXIST, re-read, done.
    state = host(root())

    def racer(action: t.Any) -> t.Optional[int]:
        if isinstance(action, CreateNetns) and not state.get('ns0').exists:
            state.namespaces['ns0'] = Namespace.fresh('ns0')
            return errno.EEXIST
        return None

    kernel = StandInKernel(state, fail=racer)
    outcome = converge(kernel, lambda world: lo_up_spec(), check_mode=False)
    assert [a.describe() for a in kernel.applied] == ['set lo in namespace ns0 up']
    assert outcome.changed


def test_a_change_another_process_made_after_ours_is_a_race() -> None:
    # Another process takes lo down again after we brought it up; the kernel's notifications said
    # who did it: a second pass, not a wrong prediction.
    kernel = StandInKernel(host(root()), disobey=lambda action, world: isinstance(action, SetLink) and
                           bool(kernel.others))
    kernel.others = [True]
    outcome = converge(kernel, lambda world: lo_up_spec(), check_mode=False)
    assert [a.describe() for a in kernel.applied] == ['create namespace ns0', 'set lo in namespace ns0 up',
                                                      'set lo in namespace ns0 up']
    assert outcome.final.get('ns0').links['lo'].up and 'second_pass' not in outcome.result(diff=False)


def test_a_route_the_kernel_flushed_is_repaired_by_a_second_pass() -> None:
    # The documented side effect: a route that was there before and that the plan kept.
    route = Route(net('203.0.113.0/24'), dev='d0', scope=253)
    ns0 = Namespace('ns0', links={'lo': Link('lo', ifindex=1, up=True), 'd0': Link('d0', ifindex=2, up=True)},
                    addresses=[Address('d0', ip('192.0.2.1/24'))], routes=[route])
    specs = [NamespaceSpec('ns0', links=(LinkSpec('d0', mtu=1400),), routes=(RouteSpec(route),))]

    def flush(action: t.Any, world: World) -> bool:
        action.predict(world)
        world.get('ns0').routes.clear()
        return True

    kernel = StandInKernel(host(root(), ns0), disobey=lambda action, world: isinstance(action, SetLink) and
                           flush(action, world))
    outcome = converge(kernel, lambda world: specs, check_mode=False)
    assert outcome.result(diff=False)['second_pass'] == ['add route 203.0.113.0/24 dev d0 scope link in namespace ns0']
    assert outcome.warnings and 'second pass' in outcome.warnings[0]


# --- the host lock ------------------------------------------------------------------

def test_a_run_that_holds_the_lock_too_long_is_named(tmp_path: t.Any) -> None:
    import fcntl
    import os

    from ansible_collections.linuxnet.ipvlan.plugins.module_utils._session import host_lock

    path = str(tmp_path / 'lock')
    holder = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        with pytest.raises(TaskError, match=r'lock for more than 0.1 s \(held by pid %d\)' % os.getpid()):
            with host_lock(path=path, timeout=0.1):
                pass
    finally:
        os.close(holder)
    with host_lock(path=path, timeout=0.1):
        pass
