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
  - A route is identified the way the kernel does it when one is added, by destination, table and metric (and TOS,
    which this module leaves at 0). The type is not part of it. When its type, gateway, device, next hops, scope or
    onlink flag differ from the task, it is replaced, never duplicated. Any protocol satisfies the task.
  - Unicast routes (through a gateway, a device, or several next hops, O(nexthops)) and the reject types
    V(blackhole), V(unreachable), V(prohibit) and V(throw) can be declared.
  - Routes the kernel makes by itself (protocol C(kernel) or C(ra), like an address's prefix route or C(fe80::/64))
    count like any other. A declared route with their key is satisfied by them, or replaces them, as
    C(ip route replace) would. The local table is the kernel's and never managed.
  - The kernel's normalisation is applied to the task first, so that a second run finds what it asked for. An IPv6
    metric of 0 is 1024; a gateway tells the family (V(default) via an IPv6 gateway is C(::/0)); IPv6 routes have no
    scope; the kernel stores one next hop in O(nexthops) as a plain route and an IPv6 reject route on C(lo).
  - Routes are added with protocol C(static).
extends_documentation_fragment:
  - linuxnet.ipvlan._attributes
  - linuxnet.ipvlan._pyroute2
options:
  netns:
    description:
      - Network namespace. Omit for the namespace the module runs in. It must exist.
      - A name, as C(ip netns) uses, or the absolute path of a namespace file for a namespace that has no name,
        either C(/proc/PID/ns/net) of a process in it (a service with C(PrivateNetwork), a container), or a bind mount of one
        (a container runtime's, such as C(/run/docker/netns/ID)). A value starting with C(/) is a path (a name never
        holds C(/)); a path and a name that reach one namespace are one namespace.
    type: str
  dst:
    description:
      - V(default), or a destination network in CIDR notation (host bits must be zero). A bare address is a host route.
    type: str
    required: true
  type:
    description:
      - Route type. V(unicast) forwards through O(gateway), O(dev) or O(nexthops); the reject types take none of
        them. V(blackhole) drops silently, V(unreachable) and V(prohibit) answer with an ICMP error, V(throw) ends the
        lookup in this table.
      - Defaults to V(unicast). With O(state=absent), a route of any type matches unless one is given.
      - Other types the kernel knows (local, broadcast, multicast, ...) are read, shown by M(linuxnet.ipvlan.facts)
        and removed by O(state=absent), never made.
    type: str
    choices: [unicast, blackhole, unreachable, prohibit, throw]
  gateway:
    description:
      - Next hop. Its family must match O(dst). It must be reachable through an address on an up link
        (or a device route), unless O(onlink=true).
      - A link-local IPv6 gateway may carry a zone id, V(fe80::1%eth0), which names its device as O(dev) does;
        a zone id naming another device than O(dev) is an error.
    type: str
  dev:
    description:
      - Output device. Required with O(onlink) and for link-local IPv6 gateways (unless a zone id names it). Needed
        without O(gateway), unless O(state=absent).
      - Without it, the task names the device the kernel picks to reach O(gateway).
    type: str
  nexthops:
    description:
      - The next hops of a multipath (ECMP) route, instead of O(gateway) and O(dev). Their order does not matter.
      - IPv6 multipath routes need a gateway in each next hop; the kernel keeps them as sibling routes and reports
        them as one route, which is what this module compares.
      - One next hop is a plain route (the kernel forgets its weight).
      - An IPv6 route takes each gateway once per device (the kernel refuses the route otherwise; a next hop without
        O(nexthops[].dev) counts with the device the kernel picks); give a path more share with its weight. An IPv4
        route may name a path twice, as the kernel allows.
    type: list
    elements: dict
    suboptions:
      gateway:
        description: Gateway of this next hop (a zone id names its device, as for O(gateway)).
        type: str
      dev:
        description: Output device of this next hop. Without it, the device the kernel picks.
        type: str
      weight:
        description: Relative weight, 1 to 256.
        type: int
        default: 1
      onlink:
        description: Use the gateway even if no connected prefix covers it (needs O(nexthops[].dev)). For IPv6, as
          O(onlink) says.
        type: bool
        default: false
  family:
    description: Address family of O(dst=default) when no gateway tells it. One that contradicts the gateway is an
      error.
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
      - IPv4 scope. Defaults to V(link) for a unicast route without gateway and V(universe) otherwise, as ip(8) does.
        A route via a gateway cannot have scope V(link) or V(host) (the kernel refuses it).
      - Ignored for IPv6, which has no route scope.
    type: str
    choices: [universe, link, host]
  onlink:
    description:
      - Use the gateway even if no connected prefix covers it (needs O(dev)).
      - For an IPv6 gateway that is not link-local, the kernel still refuses one covered in the main table by
        anything but a unicast route through O(dev) (a default route, any C(::/N), or a reject route does not count);
        the task refuses it before acting (check mode warns, as an earlier task of the play may change the routes).
    type: bool
    default: false
  state:
    description:
      - Whether the route should exist.
      - V(absent) removes the routes with this O(dst), O(table) and O(metric), kernel-made ones included (as
        C(ip route del) does). When O(type), O(gateway), O(dev) or O(nexthops) are given, only the routes that match
        them. O(gateway) and O(dev) name a single-path route, O(nexthops) the exact paths of a multipath one.
      - The deletion sends the whole identity of the route as read (type, protocol, scope, next hops), so that the
        kernel deletes that route and no other. When the kernel reports nothing to delete, a fresh read decides
        whether the route is gone (done) or still there (the task fails).
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

- name: Two routers sharing the traffic two to one
  linuxnet.ipvlan.route:
    netns: ns0
    dst: 203.0.113.0/24
    nexthops:
      - {gateway: 198.51.100.1, weight: 2}
      - {gateway: 198.51.100.2}

- name: Drop what has no better route
  linuxnet.ipvlan.route:
    netns: ns0
    dst: 192.0.2.0/24
    type: blackhole

- name: An IPv6 default route through a router named with its zone id
  linuxnet.ipvlan.route:
    netns: ns0
    dst: default
    gateway: fe80::1%ipvl0
"""

RETURN = r"""
routes:
  description:
    - The routes of the namespace after the task (predicted in check mode), in the shape of
      M(linuxnet.ipvlan.facts)' routes; kernel-made routes are left out (the facts module shows them).
  returned: success
  type: list
  elements: dict
  sample:
    - {dst: default, family: ipv4, type: unicast, gateway: 198.51.100.1, dev: ipvl0, nexthops: [], metric: 0,
       table: main, scope: universe, onlink: false, proto: 4, kernel: false, prefsrc: null, tos: 0}
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

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._argspec import NETNS, ROUTE_EXCLUSIVE, new_module, route_options
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import NamespaceSpec, RouteSpec
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import build_route, check_netns_ref
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import routes_view, task_routes
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._runner import run_module


def build_specs(params, world):
    present = params['state'] == 'present'
    wanted = RouteSpec(build_route(params, present=present), present=present)
    return [NamespaceSpec(check_netns_ref(params['netns'], 'netns'), routes=(wanted,))]


def returns(world, params):
    return {'routes': routes_view(task_routes(world.get(params['netns'])))}


def main():
    module = new_module(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            **NETNS,
            **route_options()
        ),
        required_if=[('onlink', True, ['dev'])],
        mutually_exclusive=ROUTE_EXCLUSIVE,
        supports_check_mode=True,
    )
    run_module(module, build_specs, returns)


if __name__ == '__main__':
    main()
