# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment:
    # Requirements and notes shared by every module that talks netlink through pyroute2:
    #   extends_documentation_fragment:
    #     - linuxnet.ipvlan._pyroute2
    DOCUMENTATION = r"""
requirements:
  - python >= 3.9 (on the managed node)
  - pyroute2 >= 0.7.2 (on the managed node)
  - "root (become: true), or CAP_NET_ADMIN (changing links, addresses and routes) and CAP_SYS_ADMIN
    (creating, removing and entering named network namespaces), on the managed node"
notes:
  - Without a capability it needs, a task fails before changing anything, with one line that names the capability
    and the change that needs it.
  - On Debian and Ubuntu, install pyroute2 with the C(python3-pyroute2) package.
    On RHEL and its rebuilds, C(python3-pyroute2) comes from EPEL.
  - When the Python interpreter that runs the module cannot import pyroute2, the module respawns itself under the
    system Python if that one has pyroute2 (for example when the managed node's interpreter is a virtual environment).
  - Network namespaces are the named namespaces of C(ip netns), bind-mounted under C(/run/netns).
    A namespace created by C(ip netns add) is seen by the modules, and one created by the modules can be used with
    C(ip netns exec).
options: {}
"""
