# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pyroute2 dependency: import guard, respawn, and the ipvlan kind fix.

Works with pyroute2 0.7.2 (Debian bookworm) and 0.9.x (PyPI): only the API
subset both share is used (get_attr/get_nested, no IPRoute(netns=...)).
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.respawn import has_respawned, probe_interpreters_for_module, respawn_module

PYROUTE2_IMPORT_ERROR = None
try:
    from pyroute2 import IPRoute
    from pyroute2.netlink import nla
    from pyroute2.netlink.exceptions import NetlinkError
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
except ImportError:
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()
    IPRoute = nla = ifinfmsg = None

    class NetlinkError(Exception):  # type: ignore[no-redef]
        """Stand-in so that ``except NetlinkError`` stays valid without pyroute2."""

        code = 0

HAS_PYROUTE2 = PYROUTE2_IMPORT_ERROR is None

__all__ = ['HAS_PYROUTE2', 'NetlinkError', 'ensure_pyroute2', 'open_iproute']

# The system interpreters a distribution package (python3-pyroute2) installs into.
SYSTEM_INTERPRETERS = ['/usr/bin/python3', '/usr/libexec/platform-python', '/usr/bin/python']

if HAS_PYROUTE2:
    class ipvlan_data(nla):  # pylint: disable=invalid-name
        """pyroute2's own class knows only the mode: it drops the flags silently on
        both send and receive.  Same layout as the kernel's IFLA_IPVLAN_* policy."""

        prefix = 'IFLA_'
        nla_map = (
            ('IFLA_IPVLAN_UNSPEC', 'none'),
            ('IFLA_IPVLAN_MODE', 'uint16'),
            ('IFLA_IPVLAN_FLAGS', 'uint16'),
        )

    ifinfmsg.ifinfo.register_link_kind(module={'ipvlan': ipvlan_data})


def ensure_pyroute2(module):
    """Fail with the standard message, after trying a system Python that has pyroute2."""
    if HAS_PYROUTE2:
        return
    if not has_respawned():
        interpreter = probe_interpreters_for_module(SYSTEM_INTERPRETERS, 'pyroute2')
        if interpreter:
            respawn_module(interpreter)  # does not return
    module.fail_json(msg=missing_required_lib('pyroute2 >= 0.7.2'), exception=PYROUTE2_IMPORT_ERROR)


def open_iproute():
    """A netlink socket in the calling thread's current network namespace.

    ext_ack makes the kernel explain its errors ('Unknown device type'
    instead of 'Operation not supported').
    """
    return IPRoute(ext_ack=True)
