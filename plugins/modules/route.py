#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: route
short_description: Manage IPv4 and IPv6 routes in a network namespace
version_added: 0.1.0
description:
  - Adds, replaces or removes a route, in the root namespace or in a named one.
  - A route is identified the way the kernel does it, by destination, table and metric. When its gateway, device,
    scope or onlink flag differ from the task, it is replaced, never duplicated.
  - Routes the kernel makes by itself (protocol kernel, router advertisements) and the local table never count as drift.
  - Routes are added with protocol C(static).
extends_documentation_fragment:
  - linuxnet.ipvlan._attributes
  - linuxnet.ipvlan._pyroute2
options:
  netns:
    description: Named network namespace. Omit for the namespace the module runs in. It must exist.
    type: str
  dst:
    description:
      - V(default), or a destination network in CIDR notation (host bits must be zero). A bare address is a host route.
    type: str
    required: true
  gateway:
    description:
      - Next hop. Its family must match O(dst). It must be reachable through an address on an up link
        (or a device route), unless O(onlink=true).
    type: str
  dev:
    description:
      - Output device. Required with O(onlink) and for link-local IPv6 gateways. Needed without O(gateway),
        unless O(state=absent) (a route to remove is found by O(dst), O(table) and O(metric)).
    type: str
  family:
    description: Address family of O(dst=default) when there is no O(gateway) to tell it.
    type: str
    choices: [ipv4, ipv6]
  metric:
    description: Route metric (priority). Defaults to the kernel's, 0 for IPv4 and 1024 for IPv6.
    type: int
  table:
    description: Routing table, V(main) (the default), V(default) or a number. The local table is the kernel's.
    type: str
  scope:
    description:
      - IPv4 scope. Defaults to V(link) for a route without gateway and V(universe) otherwise, as ip(8) does.
      - Ignored for IPv6.
    type: str
    choices: [universe, link, host]
  onlink:
    description: Use the gateway even if no connected prefix covers it (needs O(dev)).
    type: bool
    default: false
  state:
    description:
      - Whether the route should exist.
      - V(absent) removes the route with this O(dst), O(table) and O(metric); when O(gateway) is given, only if it goes
        through that gateway.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: linuxnet.ipvlan.address
author:
  - linuxnet.ipvlan developers (@linuxnet)
"""

EXAMPLES = r"""
- name: The HOWTO's step (d)(6), ip -4 route add default via 198.51.100.1 dev ipvl0, in ns0
  linuxnet.ipvlan.route:
    netns: ns0
    dst: default
    gateway: 198.51.100.1
    dev: ipvl0

- name: An IPv6 default route through a link-local router
  linuxnet.ipvlan.route:
    netns: ns0
    dst: default
    gateway: fe80::1
    dev: ipvl0

- name: A network reached through a router on another subnet
  linuxnet.ipvlan.route:
    netns: ns0
    dst: 203.0.113.0/24
    gateway: 192.0.2.1
    dev: ipvl0
    onlink: true
"""

RETURN = r"""
routes:
  description: The user routes of the namespace after the task (predicted in check mode), kernel routes left out.
  returned: success
  type: list
  elements: dict
  sample:
    - {dst: default, family: ipv4, gateway: 198.51.100.1, dev: ipvl0, metric: 0, table: main,
       scope: universe, onlink: false, proto: 4}
actions:
  description: The plan, one line per change.
  returned: success
  type: list
  elements: str
  sample: [add route default via 198.51.100.1 dev ipvl0 in namespace ns0]
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._argspec import NETNS, route_options
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import NamespaceSpec, RouteSpec
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import build_route, check_netns_name
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import routes_view
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._runner import run_module


def build_specs(params, world):
    present = params['state'] == 'present'
    wanted = RouteSpec(build_route(params, present=present), present=present)
    return [NamespaceSpec(check_netns_name(params['netns'], 'netns'), routes=(wanted,))]


def returns(world, params):
    return {'routes': routes_view(world.get(params['netns']))}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            **NETNS,
            **route_options()
        ),
        required_if=[('onlink', True, ['dev'])],
        supports_check_mode=True,
    )
    run_module(module, build_specs, returns)


if __name__ == '__main__':
    main()
