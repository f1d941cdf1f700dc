#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: netns
short_description: Create and remove named network namespaces
version_added: 0.1.0
description:
  - Creates or removes a named network namespace, the same kind C(ip netns add) creates (a bind mount under C(/run/netns)).
  - Names match exactly; a namespace is never mistaken for another whose name contains it.
  - Check mode on a namespace that already exists reports no change.
  - Creation runs in the module's own thread (no helper process) and never creates a namespace by accident on a read.
  - B(Leftovers.) An interrupted create (of this module, or of C(ip netns add)) can leave an empty file at
    C(/run/netns/NAME). V(present) finishes the namespace on it (the action reads C(repair namespace NAME (leftover
    file))). Anything else there that is not a network namespace (a mount of something else, a symbolic link,
    a directory) is refused with a message naming it. V(absent) removes whatever is there, every mount stacked
    on the name included; a symbolic link is removed, never followed.
extends_documentation_fragment:
  - linuxnet.ipvlan._attributes
  - linuxnet.ipvlan._pyroute2
options:
  name:
    description:
      - Name of the namespace, as used by C(ip netns).
      - Any name C(ip netns add) accepts can be read and removed; it must not be empty, C(.) or C(..), nor contain
        C(/) or NUL, and must fit in a file name (255 bytes). Spaces, backslashes, quotes and any Unicode are fine.
      - A namespace this module creates must also be free of control and invisible characters (tab, newline...).
      - A path (C(/proc/PID/ns/net)) is refused, since a namespace without a name belongs to the process or container
        runtime that holds it, and is never created or removed here. The other modules take such a path as C(netns).
    type: str
    required: true
  state:
    description:
      - V(present) creates the namespace when it is missing.
      - V(absent) removes it. Processes still running in it keep the kernel namespace alive after its name is gone;
        the module then warns and returns their PIDs in RV(netns.held_by).
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: linuxnet.ipvlan.ipvlan
  - module: linuxnet.ipvlan.topology
author:
  - linuxnet.ipvlan developers (@linuxnet)
"""

EXAMPLES = r"""
- name: Create the namespaces of the ipvlan HOWTO (ip netns add ns0; ip netns add ns1)
  linuxnet.ipvlan.netns:
    name: "{{ item }}"
  loop: [ns0, ns1]

- name: Remove a namespace
  linuxnet.ipvlan.netns:
    name: ns1
    state: absent
"""

RETURN = r"""
netns:
  description: The namespace after the task (predicted in check mode).
  returned: success
  type: dict
  contains:
    name:
      description: Its name.
      type: str
      sample: ns0
    exists:
      description: Whether it exists.
      type: bool
      sample: true
    held_by:
      description: PIDs of processes still inside a namespace that was removed (or would be, in check mode).
      type: list
      elements: int
      sample: []
actions:
  description: The plan, one line per change (empty when nothing changes).
  returned: success
  type: list
  elements: str
  sample: [create namespace ns0]
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

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._argspec import new_module
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import NamespaceSpec
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import check_netns_name
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._netns import pids_in_netns
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._runner import run_module


def main():
    module = new_module(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        supports_check_mode=True,
    )
    held_by = []

    def build_specs(params, world):
        name = check_netns_name(params['name'], 'name', create=params['state'] == 'present')
        if params['state'] == 'absent' and not held_by:   # called once per pass: collect once
            held_by.extend(pids_in_netns(name))
        return [NamespaceSpec(name, ensure=params['state'])]

    def returns(world, params):
        if held_by:
            module.warn('namespace %s is still used by processes %s: the kernel keeps it until they exit'
                        % (params['name'], ', '.join(map(str, held_by))))
        return {'netns': {'name': params['name'], 'exists': world.get(params['name']).exists, 'held_by': held_by}}

    run_module(module, build_specs, returns)


if __name__ == '__main__':
    main()
