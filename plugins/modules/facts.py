#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: facts
short_description: Gather links, addresses and routes of network namespaces
version_added: 0.1.0
description:
  - Reads every network namespace (or the ones listed) and, optionally, the root one, and returns their links
    (with kind, and ipvlan mode, flags and master), addresses and routes as facts.
  - Routes are read from every table but the local one (the kernel's), whatever their type, multipath ones and
    those the kernel made itself included.
  - M(linuxnet.ipvlan.info) returns the same data as a plain return value, without setting facts.
  - Fact gathering (C(gather_facts) of a play, or M(ansible.builtin.gather_facts)) runs it when the
    C(ansible_facts_modules) variable (the C(FACTS_MODULES) setting) lists C(linuxnet.ipvlan.facts); its options then
    come from C(module_defaults). See the example.
  - Reading never creates a namespace.
  - Every namespace C(ip netns add) can make is read, whatever its name (spaces, backslashes, tabs, any Unicode).
    What sits in C(/run/netns) without being a network namespace (the empty file of an interrupted create, a mount of
    something else) is not a namespace and is not listed. A name that is not UTF-8, which no result can carry, is left
    out with a warning.
  - A namespace without a name (a container's, a service's with C(PrivateNetwork)) is listed under a path that reaches
    it, such as C(/proc/1234/ns/net); the slaves in it count for the port-wide mode and flags of their master, and the
    C(master_netns) of an ipvlan names it that way. Only the namespaces
    of processes this module may inspect are found (all of them, run as root).
extends_documentation_fragment:
  - linuxnet.ipvlan._attributes.read_only
  - linuxnet.ipvlan._attributes.facts
  - linuxnet.ipvlan._gather
  - linuxnet.ipvlan._pyroute2
seealso:
  - module: linuxnet.ipvlan.info
  - module: linuxnet.ipvlan.topology
author:
  - linuxnet.ipvlan developers (@linuxnet)
"""

EXAMPLES = r"""
# As part of fact gathering (setup too, for the usual facts):
#   - hosts: ipvlan_hosts
#     gather_facts: true
#     vars:
#       ansible_facts_modules: [ansible.builtin.setup, linuxnet.ipvlan.facts]
#     module_defaults:
#       linuxnet.ipvlan.facts: {include_root: false}

- name: Read the HOWTO's namespaces
  linuxnet.ipvlan.facts:
    netns: [ns0, ns1]

- name: Check what the HOWTO built
  ansible.builtin.assert:
    that:
      - ansible_facts.linuxnet_ipvlan.namespaces.ns0.links.ipvl0.ipvlan.mode == 'l2'
      - ansible_facts.linuxnet_ipvlan.namespaces.ns0.links.ipvl0.state == 'up'
      - "'198.51.100.11/24' in ansible_facts.linuxnet_ipvlan.namespaces.ns0.links.ipvl0.addresses"
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to the host.
  returned: always
  type: dict
  contains:
    linuxnet_ipvlan:
      description: Namespaces by name, and the root namespace.
      returned: always
      type: dict
      contains:
        namespaces:
          description:
            - Each namespace read, by name (by path for one without a name), with V(exists), V(links) and V(routes).
            - V(links) maps each link name to V(ifindex), V(kind), V(state) (up or down), V(mtu), V(mac), V(alias),
              V(managed) (carries the collection's marker), V(owner) (the owner its marker names, see
              M(linuxnet.ipvlan.topology)), V(addresses) (CIDR strings) and, for ipvlan links,
              V(ipvlan) with V(mode), V(flags), V(master), V(master_ifindex) and V(master_netns).
            - V(routes) lists the routes of every table but the local one, each with V(dst), V(family), V(type)
              (unicast, blackhole, unreachable, prohibit, throw, local, ...), V(gateway), V(dev), V(nexthops) (the
              paths of a multipath route, each with V(gateway), V(dev), V(weight) and V(onlink); empty otherwise),
              V(metric), V(table), V(scope), V(onlink), V(proto) (the number), V(kernel) (made by the kernel itself,
              protocol kernel or ra, like the prefix route of an address), V(prefsrc) and V(tos).
          type: dict
          returned: always
          sample:
            ns0:
              exists: true
              links:
                ipvl0:
                  ifindex: 2
                  kind: ipvlan
                  state: up
                  mtu: 1500
                  mac: "52:54:00:00:01:01"
                  alias: null
                  managed: false
                  owner: null
                  addresses: [198.51.100.11/24]
                  ipvlan: {mode: l2, flags: bridge, master: ens4, master_ifindex: 3, master_netns: null}
              routes:
                - {dst: default, family: ipv4, type: unicast, gateway: 198.51.100.1, dev: ipvl0, nexthops: [],
                   metric: 0, table: main, scope: universe, onlink: false, proto: 4, kernel: false, prefsrc: null,
                   tos: 0}
                - {dst: 198.51.100.0/24, family: ipv4, type: unicast, gateway: null, dev: ipvl0, nexthops: [],
                   metric: 0, table: main, scope: link, onlink: false, proto: 2, kernel: true,
                   prefsrc: 198.51.100.11, tos: 0}
        root:
          description: The root namespace, in the same shape, when O(include_root=true).
          type: dict
          returned: when O(include_root=true)
"""

# First: turns away a Python older than the modules need, before code it cannot compile is imported.
from ansible_collections.linuxnet.ipvlan.plugins.module_utils import _floor  # noqa: F401  pylint: disable=unused-import

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._gather import RESULT_KEY, run_gather


def main():
    run_gather(lambda data: {'ansible_facts': {RESULT_KEY: data}})


if __name__ == '__main__':
    main()
