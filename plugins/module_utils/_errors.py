# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One exception type for everything a task can report, and the errno table."""

from __future__ import annotations

import errno

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import CAP_NAMES, CAP_NET_ADMIN, CAP_SYS_ADMIN


class TaskError(Exception):
    """A failure worth showing to the user as it is: it names the object and parameter."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


def _kernel_text(exc):
    """The kernel's extack text, when it said more than strerror."""
    args = getattr(exc, 'args', ())
    text = args[1] if len(args) > 1 and isinstance(args[1], str) else ''
    return text.strip().rstrip('.')


# What each capability is for (_caps names it in its one-line refusals), and what every module
# needs on the managed node. The _pyroute2 doc fragment and the README say the same words
# (tests/unit/test_errors.py holds them to it).
NEEDED_FOR = {
    CAP_NET_ADMIN: 'changing links, addresses and routes',
    CAP_SYS_ADMIN: 'creating, removing and entering named network namespaces',
}
PRIVILEGES = ('root (become: true), or CAP_NET_ADMIN (%s) and CAP_SYS_ADMIN (%s)'
              % (NEEDED_FOR[CAP_NET_ADMIN], NEEDED_FOR[CAP_SYS_ADMIN]))

# errno -> (explanation, hint).  Texts say what is wrong in the user's terms.
_ERRNO_TEXT = {
    errno.EPERM: ('permission denied', None),   # the hint names the action's capability
    errno.ENOENT: ('not found', None),
    errno.ESRCH: ('no such route', None),
    errno.EBUSY: ('device busy', 'the master may already be used by a bridge, bond or macvlan'),
    errno.EEXIST: ('already exists', None),
    errno.ENODEV: ('no such device', None),
    errno.EINVAL: ('invalid argument', None),
    errno.ERANGE: ('value out of range (interface names are at most 15 bytes)', None),
    errno.EOPNOTSUPP: ('operation not supported by this kernel or device', None),
    errno.EADDRINUSE: ('address already used by another ipvlan slave on the same master', None),
    errno.EADDRNOTAVAIL: ('address not available', None),
    errno.ENETUNREACH: ('gateway is not reachable through any connected prefix',
                        'set onlink: true with dev, or add an address in the gateway\'s subnet first'),
}

NO_IPVLAN_SUPPORT = (
    'this kernel has no ipvlan support (errno 95, EOPNOTSUPP, "Unknown device type"): '
    'it was built without CONFIG_IPVLAN, or the ipvlan module is not available; '
    'load it with "modprobe ipvlan" or use a kernel that has it')


def explain(exc, action):
    """Turn a NetlinkError/OSError raised while applying ACTION into a TaskError."""
    code = getattr(exc, 'code', None) or getattr(exc, 'errno', None) or 0
    if code == errno.EOPNOTSUPP and getattr(action, 'creates_ipvlan', False):
        return TaskError('%s: %s' % (action.describe(), NO_IPVLAN_SUPPORT), errno=code)
    text, hint = _ERRNO_TEXT.get(code, (errno.errorcode.get(code, 'error %s' % code), None))
    if code == errno.EPERM:
        capability = CAP_NAMES[getattr(action, 'capability', CAP_NET_ADMIN)]
        hint = 'it needs %s: run as root (become: true) or grant %s' % (capability, capability)
    kernel = _kernel_text(exc)
    parts = ['%s failed: %s' % (action.describe(), text)]
    if kernel and kernel.lower() not in text.lower():
        parts.append('(kernel: %s)' % kernel)
    if hint:
        parts.append('- %s' % hint)
    return TaskError(' '.join(parts) + ' [errno %s]' % code, errno=code)
