#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: link
short_description: Set the admin state and MTU of an existing link in a network namespace
version_added: 0.1.0
description:
  - Brings an existing link up or down and sets its MTU, in the root namespace or in another one (named, or given by
    path), and moves a link of the root namespace into another one (O(move)).
  - Works for any link, C(lo) included. It never creates or deletes links; use M(linuxnet.ipvlan.ipvlan) for that.
  - Taking a link down makes the kernel flush its IPv6 addresses and the routes through it.
extends_documentation_fragment:
  - linuxnet.ipvlan._attributes
  - linuxnet.ipvlan._pyroute2
options:
  name:
    description: Name of the link (at most 15 bytes).
    type: str
    required: true
  netns:
    description:
      - Network namespace the link is in. Omit for the namespace the module runs in.
      - A name, as C(ip netns) uses, or the absolute path of a namespace file for a namespace that has no name,
        either C(/proc/PID/ns/net) of a process in it (a service with C(PrivateNetwork), a container), or a bind mount of one
        (a container runtime's, such as C(/run/docker/netns/ID)). A value starting with C(/) is a path (a name never
        holds C(/)); a path and a name that reach one namespace are one namespace.
      - The namespace must exist; this module never creates one.
    type: str
  move:
    description:
      - When the link is not in O(netns) but in the namespace the module runs in, move it into O(netns)
        (C(ip link set dev NAME netns NETNS)), for instance a veth end handed to a container. A moved link arrives down
        and without addresses; O(state) and O(mtu) then apply to it there. Needs O(netns).
    type: bool
    default: false
  state:
    description: Admin state. Omit to leave it as it is.
    type: str
    choices: [up, down]
  mtu:
    description:
      - MTU in bytes. Omit to leave it as it is.
      - Must be within the link's range as the kernel reports it (for an ipvlan slave, at most the master's MTU).
    type: int
seealso:
  - module: linuxnet.ipvlan.ipvlan
  - module: linuxnet.ipvlan.facts
author:
  - linuxnet.ipvlan developers (@linuxnet)
"""

EXAMPLES = r"""
- name: Hand a veth end to a running container (ip link set dev veth1 netns /proc/PID/ns/net; ip -n ... link set up)
  linuxnet.ipvlan.link:
    name: veth1
    netns: "/proc/{{ container_pid }}/ns/net"
    move: true
    state: up

- name: Bring lo up in ns0 (ip -n ns0 link set dev lo up)
  linuxnet.ipvlan.link:
    name: lo
    netns: ns0
    state: up

- name: Set the MTU of the HOWTO's slave
  linuxnet.ipvlan.link:
    name: ipvl0
    netns: ns0
    mtu: 1400
    state: up
"""

RETURN = r"""
link:
  description: The link after the task (predicted in check mode).
  returned: success
  type: dict
  sample: {"ifindex": 2, "kind": "ipvlan", "state": "up", "mtu": 1400, "mac": "52:54:00:00:01:01"}
actions:
  description: The plan, one line per change.
  returned: success
  type: list
  elements: str
  sample: [set lo in namespace ns0 up]
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

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._argspec import NETNS, admin_up, new_module
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import ROOT, LinkSpec, NamespaceSpec
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import check_ifname, check_mtu, check_netns_ref
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import link_view
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._runner import run_module


def build_specs(params, world):
    netns = check_netns_ref(params['netns'], 'netns')
    if params['move'] and netns is ROOT:
        raise TaskError('move: moving a link needs netns, the namespace to move it into')
    link = LinkSpec(check_ifname(params['name'], 'name'), up=admin_up(params['state']),
                    mtu=check_mtu(params['mtu'], 'mtu'), move=params['move'])
    return [NamespaceSpec(netns, links=(link,))]


def returns(world, params):
    namespace = world.get(params['netns'])
    return {'link': link_view(world, namespace.links[params['name']])}


def main():
    module = new_module(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=['up', 'down']),
            mtu=dict(type='int'),
            move=dict(type='bool', default=False),
            **NETNS
        ),
        supports_check_mode=True,
    )
    run_module(module, build_specs, returns)


if __name__ == '__main__':
    main()
