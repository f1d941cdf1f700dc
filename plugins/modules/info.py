#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: info
short_description: Read links, addresses and routes of network namespaces, without setting facts
version_added: 0.1.0
description:
  - Reads every named network namespace (or the ones listed) and, optionally, the root one, and returns their links
    (with kind, and ipvlan mode, flags and master), addresses and routes (every table but the local one, those the
    kernel made marked) under RV(linuxnet_ipvlan).
  - The same reading as M(linuxnet.ipvlan.facts), which returns the same data as C(ansible_facts.linuxnet_ipvlan).
    Use this module with C(register) when the data should not become host facts.
extends_documentation_fragment:
  - linuxnet.ipvlan._attributes.read_only
  - linuxnet.ipvlan._gather
  - linuxnet.ipvlan._pyroute2
seealso:
  - module: linuxnet.ipvlan.facts
author:
  - linuxnet.ipvlan developers (@linuxnet)
"""

EXAMPLES = r"""
- name: Read the HOWTO's namespaces
  linuxnet.ipvlan.info:
    netns: [ns0, ns1]
    include_root: false
  register: ipvlan_info

- name: Check what the HOWTO built
  ansible.builtin.assert:
    that:
      - ipvlan_info.linuxnet_ipvlan.namespaces.ns0.links.ipvl0.ipvlan.mode == 'l2'
      - "'198.51.100.12/24' in ipvlan_info.linuxnet_ipvlan.namespaces.ns1.links.ipvl1.addresses"
"""

RETURN = r"""
linuxnet_ipvlan:
  description:
    - What was read, in the shape of the facts module's C(ansible_facts.linuxnet_ipvlan); M(linuxnet.ipvlan.facts)
      documents every field and shows a sample.
    - V(namespaces) maps each namespace read to V(exists), V(links) (by name) and V(routes) (every table but the
      local one; V(kernel) marks the routes the kernel made).
    - V(root) is the root namespace in the same shape, when O(include_root=true).
  returned: always
  type: dict
"""

# First: turns away a Python older than the modules need, before code it cannot compile is imported.
from ansible_collections.linuxnet.ipvlan.plugins.module_utils import _floor  # noqa: F401  pylint: disable=unused-import

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._gather import RESULT_KEY, run_gather


def main():
    run_gather(lambda data: {RESULT_KEY: data})


if __name__ == '__main__':
    main()
