# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pyroute2 dependency: import guard, respawn, and the ipvlan kind fix.

Works with pyroute2 0.7.2 (Debian bookworm) and 0.9.x (PyPI): only the API
subset both share is used (get_attr/get_nested, no IPRoute(netns=...)).
"""

from __future__ import annotations

import os
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.respawn import has_respawned, respawn_module

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._floor import PYTHON_FLOOR, version_text

PYROUTE2_IMPORT_ERROR = None
try:
    from pyroute2 import IPRoute
    from pyroute2.netlink import nla
    from pyroute2.netlink.exceptions import NetlinkDumpInterrupted, NetlinkError
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
except ImportError:
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()
    IPRoute = nla = ifinfmsg = None

    class NetlinkError(Exception):  # type: ignore[no-redef]
        """Stand-in so that ``except NetlinkError`` stays valid without pyroute2."""

        code = 0

    class NetlinkDumpInterrupted(NetlinkError):  # type: ignore[no-redef]
        """Stand-in, as NetlinkError."""

HAS_PYROUTE2 = PYROUTE2_IMPORT_ERROR is None

__all__ = ['HAS_PYROUTE2', 'NetlinkDumpInterrupted', 'NetlinkError', 'ensure_pyroute2', 'open_iproute']

# Completes missing_required_lib's line with what to do about it.
MISSING_REASON = ('to talk netlink: install the python3-pyroute2 package (or pyroute2 in the interpreter Ansible uses), '
                  'or run the linuxnet.ipvlan.prereqs role')

# The system interpreters a distribution package (python3-pyroute2) installs into.
SYSTEM_INTERPRETERS = ['/usr/bin/python3', '/usr/libexec/platform-python', '/usr/bin/python']

# Runs under any Python, 2.7 included: prints "MAJOR MINOR HAS_PYROUTE2".
_PROBE = ('import sys\n'
          'try:\n    import pyroute2\n    found = 1\nexcept Exception:\n    found = 0\n'
          'print("%d %d %d" % (sys.version_info[0], sys.version_info[1], found))')

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


def _probe(interpreter, run_command):
    """(major, minor) and whether pyroute2 imports, or None when the interpreter does not run."""
    if not os.path.exists(interpreter):
        return None
    try:
        rc, out, _err = run_command([interpreter, '-c', _PROBE], handle_exceptions=False)
        major, minor, found = (int(word) for word in out.split())
    except (OSError, ValueError):
        return None
    if rc != 0:
        return None
    return (major, minor), bool(found)


def pick_interpreter(candidates, run_command):
    """The first candidate with pyroute2 and Python >= PYTHON_FLOOR, and the too-old ones that have pyroute2.

    run_command is AnsibleModule.run_command (or anything with its signature and return value).
    """
    too_old = []
    for interpreter in candidates:
        probed = _probe(interpreter, run_command)
        if probed is None or not probed[1]:
            continue
        if probed[0] >= PYTHON_FLOOR:
            return interpreter, too_old
        too_old.append('%s (Python %s)' % (interpreter, version_text(probed[0])))
    return None, too_old


def ensure_pyroute2(module):
    """Fail with the standard message, after trying a system Python that has pyroute2 and can run the modules."""
    if HAS_PYROUTE2:
        return
    msg = missing_required_lib('pyroute2 >= 0.7.2', reason=MISSING_REASON)
    if not has_respawned():
        interpreter, too_old = pick_interpreter(SYSTEM_INTERPRETERS, module.run_command)
        if interpreter:
            respawn_module(interpreter)  # does not return
        if too_old:
            msg += (' pyroute2 was found only under %s, older than the Python >= %s the modules need.'
                    % (', '.join(too_old), version_text(PYTHON_FLOOR)))
    module.fail_json(msg=msg, exception=PYROUTE2_IMPORT_ERROR)


def open_iproute():
    """A netlink socket in the calling thread's current network namespace.

    ext_ack makes the kernel explain its errors ('Unknown device type'
    instead of 'Operation not supported').
    """
    return IPRoute(ext_ack=True)
