#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: ipvlan
short_description: Create, change and remove ipvlan links
version_added: 0.1.0
description:
  - Manages an ipvlan slave of a master device, and moves it into a network namespace, as in the kernel's ipvlan HOWTO.
  - The link is found in its namespace and compared on kind, master (ifindex and namespace, so a same-named link on
    another master is drift), mode, flags, MTU, namespace and admin state.
  - B(Mode and flags belong to the master's ipvlan port) and are shared by every slave on it. A task that would change
    them while the master has other slaves fails and names those slaves, unless O(allow_port_change=true).
  - Another kind of link, or an ipvlan on another master, with the same name cannot be changed in place; the task
    fails unless O(recreate=true).
  - On a kernel without ipvlan support the task fails and says so.
extends_documentation_fragment:
  - linuxnet.ipvlan._attributes
  - linuxnet.ipvlan._pyroute2
options:
  name:
    description: Name of the ipvlan slave (at most 15 bytes).
    type: str
    required: true
  master:
    description: The master (parent) device, a real device such as C(eth0). Required with O(state=present).
    type: str
  master_netns:
    description:
      - Namespace the master lives in, a name or a path as for O(netns). Omit for the namespace the module runs in.
    type: str
  netns:
    description:
      - Namespace the slave must end up in; a new slave is created straight into it, and a slave found next to
        its master is moved there. Omit to keep it in the module's namespace.
      - A name, as C(ip netns) uses, or the absolute path of a namespace file for a namespace that has no name,
        either C(/proc/PID/ns/net) of a process in it (a service with C(PrivateNetwork), a container), or a bind mount of one
        (a container runtime's, such as C(/run/docker/netns/ID)). A value starting with C(/) is a path (a name never
        holds C(/)); a path and a name that reach one namespace are one namespace.
        This is how a slave is attached to a running container or service.
      - The namespace must exist; with O(state=absent) a missing namespace means there is nothing to remove.
    type: str
  mode:
    description: ipvlan mode of the master's port (C(l3) is the kernel's default).
    type: str
    choices: [l2, l3, l3s]
    default: l3
  flags:
    description: Port flag. V(private) stops slaves talking to each other, V(vepa) hands switching to the external switch.
    type: str
    choices: [bridge, private, vepa]
    default: bridge
  mtu:
    description: MTU of the slave; at most the master's. Omit to follow the master.
    type: int
  admin_state:
    description: Admin state of the slave. Omit to leave it as it is (a new slave starts down).
    type: str
    choices: [up, down]
  state:
    description: Whether the slave should exist.
    type: str
    choices: [present, absent]
    default: present
  allow_port_change:
    description:
      - Allow changing the mode or flags of a master whose port has other slaves; they all change.
    type: bool
    default: false
  recreate:
    description: Delete and recreate a same-named link of another kind or on another master.
    type: bool
    default: false
seealso:
  - module: linuxnet.ipvlan.netns
  - module: linuxnet.ipvlan.topology
  - name: IPVLAN Driver HOWTO
    description: The kernel's documentation of ipvlan modes and flags.
    link: https://docs.kernel.org/networking/ipvlan.html
author:
  - linuxnet.ipvlan developers (@linuxnet)
"""

EXAMPLES = r"""
# The HOWTO, section 3: ip link add link <master> name <slave> type ipvlan [ mode MODE ] [ FLAGS ].
# (a) to (d) are alternatives, as in the HOWTO: mode and flags belong to eth0's ipvlan port and are
# shared by all its slaves. After (b), running (c) fails and names ipvl0, which would turn private
# too, unless allow_port_change is true.

- name: (a) ip link add link eth0 name ipvl0 type ipvlan (L3 bridge, the kernel's default)
  linuxnet.ipvlan.ipvlan:
    name: ipvl0
    master: eth0

- name: (b) ip link add link eth0 name ipvl0 type ipvlan mode l2 bridge
  linuxnet.ipvlan.ipvlan:
    name: ipvl0
    master: eth0
    mode: l2
    flags: bridge

- name: (c) ip link add link eth0 name ipvlan type ipvlan mode l2 private
  linuxnet.ipvlan.ipvlan:
    name: ipvlan
    master: eth0
    mode: l2
    flags: private

- name: (d) ip link add link eth0 name ipvlan type ipvlan mode l2 vepa
  linuxnet.ipvlan.ipvlan:
    name: ipvlan
    master: eth0
    mode: l2
    flags: vepa

# The HOWTO, section 6: slaves of eth0 in namespaces ns0 and ns1. The module creates a slave straight
# in its namespace; one already made next to its master (step (b) alone) is moved there (step (c)).
- name: (a) ip netns add ns0; ip netns add ns1
  linuxnet.ipvlan.netns:
    name: "{{ item }}"
  loop: [ns0, ns1]

- name: (b) ip link add link eth0 ipvl0 type ipvlan mode l2, (c) ip link set dev ipvl0 netns ns0, (d)(2) up
  linuxnet.ipvlan.ipvlan:
    name: "{{ item.name }}"
    master: eth0
    mode: l2
    netns: "{{ item.netns }}"
    admin_state: up
  loop:
    - {name: ipvl0, netns: ns0}
    - {name: ipvl1, netns: ns1}

- name: Switch every slave of eth0 to private, knowingly (ipvl1 in ns1 changes too)
  linuxnet.ipvlan.ipvlan:
    name: ipvl0
    master: eth0
    mode: l2
    flags: private
    netns: ns0
    admin_state: up
    allow_port_change: true

- name: A slave with a smaller MTU, its master living in namespace underlay
  linuxnet.ipvlan.ipvlan:
    name: ipvl2
    master: eth1
    master_netns: underlay
    netns: ns0
    mode: l3s
    mtu: 1400

- name: Replace a same-named link of another kind (or on another master) with the ipvlan
  linuxnet.ipvlan.ipvlan:
    name: ipvl3
    master: eth2
    recreate: true

- name: Remove a slave
  linuxnet.ipvlan.ipvlan:
    name: ipvl1
    netns: ns1
    state: absent
"""

RETURN = r"""
link:
  description: The slave after the task (predicted in check mode); empty when it is absent.
  returned: success
  type: dict
  contains:
    ifindex:
      description: Interface index in its namespace (0 when predicted in check mode for a new slave).
      type: int
      sample: 2
    netns:
      description: Its namespace (null for the module's own).
      type: str
      sample: ns0
    mode:
      description: ipvlan mode.
      type: str
      sample: l2
    flags:
      description: ipvlan flag.
      type: str
      sample: bridge
    master:
      description: Name of the master.
      type: str
      sample: eth0
    master_netns:
      description: Namespace of the master (null for the module's own).
      type: str
      sample: null
    mtu:
      description: MTU.
      type: int
      sample: 1500
    state:
      description: Admin state, up or down.
      type: str
      sample: up
actions:
  description: The plan, one line per change.
  returned: success
  type: list
  elements: str
  sample: [create ipvlan ipvl0 on eth0 (the root namespace), mode l2 bridge in namespace ns0]
second_pass:
  description:
    - Actions of a second pass, run because the kernel flushed by itself a route or an IPv6 address that existed before
      the task and that the first pass kept (a documented kernel side effect, see the collection README).
  returned: when a second pass ran
  type: list
  elements: str
  sample: [add route 203.0.113.0/24 dev veth0 scope link in namespace ns0]
"""

# First: turns away a Python older than the modules need, before code it cannot compile is imported.
from ansible_collections.linuxnet.ipvlan.plugins.module_utils import _floor  # noqa: F401  pylint: disable=unused-import

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._argspec import NETNS, ipvlan_options, new_module
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import ROOT, IpvlanSpec, NamespaceSpec, is_netns_path
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import check_ipvlan
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import master_name
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._runner import run_module


def build_specs(params, world):
    netns, ipvlan = check_ipvlan(params, netns_param='netns')
    if params['state'] == 'absent' and netns is not ROOT and not is_netns_path(netns) and not world.get(netns).exists:
        return []  # the slave went away with its namespace: nothing to remove (a path is checked by the planner)
    ipvlan = IpvlanSpec(present=params['state'] == 'present', recreate=params['recreate'],
                        allow_port_change=params['allow_port_change'], **ipvlan)
    return [NamespaceSpec(netns, ipvlans=(ipvlan,))]


def returns(world, params):
    link = world.get(params['netns']).links.get(params['name'])
    if link is None or link.kind != 'ipvlan':
        return {'link': {}}
    return {'link': {
        'ifindex': link.ifindex, 'netns': params['netns'], 'mode': link.ipvlan_mode, 'flags': link.ipvlan_flags,
        'master': master_name(world, link), 'master_netns': link.master_netns, 'mtu': link.mtu,
        'state': 'up' if link.up else 'down',
    }}


def main():
    module = new_module(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            allow_port_change=dict(type='bool', default=False),
            recreate=dict(type='bool', default=False),
            **NETNS,
            **ipvlan_options()
        ),
        required_if=[('state', 'present', ['master'])],
        supports_check_mode=True,
    )
    run_module(module, build_specs, returns)


if __name__ == '__main__':
    main()
