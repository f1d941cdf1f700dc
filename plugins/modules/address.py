#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: address
short_description: Manage IPv4 and IPv6 addresses on a link in a network namespace
version_added: 0.1.0
description:
  - Adds or removes addresses on a link, in the root namespace or in a named one.
  - An address is identified by its IP; the same IP with another prefix length is a change (the old one is replaced),
    never a second address.
  - With O(purge=true) the addresses not listed are removed, except the IPv6 link-local one.
extends_documentation_fragment:
  - linuxnet.ipvlan._attributes
  - linuxnet.ipvlan._pyroute2
options:
  dev:
    description: Name of the link that carries the addresses.
    type: str
    required: true
  netns:
    description:
      - Network namespace the link is in. Omit for the namespace the module runs in. It must exist.
      - A name, as C(ip netns) uses, or the absolute path of a namespace file for a namespace that has no name,
        either C(/proc/PID/ns/net) of a process in it (a service with C(PrivateNetwork), a container), or a bind mount of one
        (a container runtime's, such as C(/run/docker/netns/ID)). A value starting with C(/) is a path (a name never
        holds C(/)); a path and a name that reach one namespace are one namespace.
    type: str
  addresses:
    description:
      - Addresses in CIDR notation (V(198.51.100.10/24), V(2001:db8::10/64)), IPv4 and IPv6 mixed.
      - Required unless O(purge=true) removes everything.
    type: list
    elements: str
    default: []
  state:
    description: V(present) adds the addresses, V(absent) removes them (matched by IP, whatever their prefix length).
    type: str
    choices: [present, absent]
    default: present
  purge:
    description: With O(state=present), remove the addresses of O(dev) that are not listed (never the IPv6 link-local one).
    type: bool
    default: false
  nodad:
    description: Add IPv6 addresses without duplicate address detection, so they are usable at once (C(nodad) in ip(8)).
    type: bool
    default: false
seealso:
  - module: linuxnet.ipvlan.route
author:
  - linuxnet.ipvlan developers (@linuxnet)
"""

EXAMPLES = r"""
- name: The HOWTO's step (d)(5), ip -4 addr add 198.51.100.11/24 dev ipvl0, in ns0
  linuxnet.ipvlan.address:
    netns: ns0
    dev: ipvl0
    addresses:
      - 198.51.100.11/24

- name: Exactly these addresses, IPv6 usable at once
  linuxnet.ipvlan.address:
    netns: ns0
    dev: ipvl0
    addresses:
      - 198.51.100.11/24
      - 2001:db8:100::11/64
    nodad: true
    purge: true
"""

RETURN = r"""
addresses:
  description: The addresses of O(dev) after the task (predicted in check mode), IPv4 first.
  returned: success
  type: list
  elements: str
  sample: [198.51.100.11/24, "2001:db8:100::11/64", "fe80::5054:ff:fe00:101/64"]
actions:
  description: The plan, one line per change.
  returned: success
  type: list
  elements: str
  sample: [add address 198.51.100.11/24 to ipvl0 in namespace ns0]
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

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._argspec import NETNS, new_module
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import AddressesSpec, NamespaceSpec
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import check_ifname, check_netns_ref, parse_cidr
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import addresses_of
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._runner import run_module


def build_specs(params, world):
    addresses = tuple(parse_cidr(value, 'addresses') for value in params['addresses'])
    wanted = AddressesSpec(check_ifname(params['dev'], 'dev'), addresses, present=params['state'] == 'present',
                           purge=params['purge'], nodad=params['nodad'])
    return [NamespaceSpec(check_netns_ref(params['netns'], 'netns'), addresses=(wanted,))]


def returns(world, params):
    return {'addresses': addresses_of(world.get(params['netns']), params['dev'])}


def main():
    module = new_module(
        argument_spec=dict(
            dev=dict(type='str', required=True),
            addresses=dict(type='list', elements='str', default=[]),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            purge=dict(type='bool', default=False),
            nodad=dict(type='bool', default=False),
            **NETNS
        ),
        supports_check_mode=True,
    )
    run_module(module, build_specs, returns)


if __name__ == '__main__':
    main()
