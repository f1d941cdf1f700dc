# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment:
    # Options of the reading modules (facts and info), which share their code in module_utils/_gather.py:
    #   extends_documentation_fragment:
    #     - linuxnet.ipvlan._gather
    DOCUMENTATION = r"""
options:
  netns:
    description:
      - Namespaces to read, by name or by absolute path of namespace files (C(/proc/PID/ns/net), a container runtime's
        bind mount), which are reported under the path given. A listed namespace that does not exist is reported as not
        existing; a path that is there but is no network namespace fails the task.
      - Omit to read all of them, the named ones and those without a name that a process or a bind mount holds,
        each reported under a path that reaches it (a bind mount outside C(/run/netns) when there is one, else
        C(/proc/PID/ns/net) of the lowest PID in it), which the other modules take as O(netns).
    type: list
    elements: str
  include_root:
    description: Also read the namespace the module runs in, returned as C(linuxnet_ipvlan.root).
    type: bool
    default: true
notes:
  - Reading never creates a namespace.
"""
