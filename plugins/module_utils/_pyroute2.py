# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pyroute2 dependency: a lean import, respawn, the ipvlan kind fix, and the read socket.

Works with pyroute2 0.7.2 (Debian bookworm) and 0.9.x (PyPI): only what both share is used
(the message classes with get_attr/get_nested, IPRoute's link/addr/route, no IPRoute(netns=...)).

Lean import: ``import pyroute2`` runs a package __init__ that imports every protocol pyroute2
knows (NDB, conntrack, nl80211, ipset, ...): 0.15 s on a fast host, 3 s in a TCG guest, none of
it used here.  The package is registered without running that __init__ and only the submodules
a task needs are loaded: the message classes when a module starts, IPRoute on the first change.

Reading: DumpSocket, a plain NETLINK_ROUTE socket whose requests and answers pyroute2's message
classes encode and decode.  pyroute2 0.9's synchronous IPRoute runs its asyncio loop once per
message; a read through it cost three times what it costs on 0.7.2.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import importlib.util
import os
import platform
import socket
import struct
import sys
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._floor import PYTHON_FLOOR, version_text
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import NLM_F_DUMP_INTR, NLMSGHDR


def _register_bare_package():
    """Make ``pyroute2.<sub>`` importable without running pyroute2/__init__.py."""
    if 'pyroute2' in sys.modules:
        return
    spec = importlib.util.find_spec('pyroute2')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("No module named 'pyroute2'")
    sys.modules['pyroute2'] = importlib.util.module_from_spec(spec)


@contextlib.contextmanager
def _without_platform_probes():
    """Import pyroute2 0.7 without the two processes its config module starts.

    pyroute2.config (0.7) iterates platform.uname(), whose lazy ``processor`` field runs
    ``uname -p``, and calls platform.architecture(), which runs ``file`` on the interpreter:
    two processes per module run (seconds in a slow guest) for values nothing here uses.
    pyroute2 0.9 reads the fields by name and passes no executable; for 0.7 both answers are
    given without a process while pyroute2 imports, and taken back afterwards.
    """
    uname = platform.uname()
    fields = getattr(uname, '__dict__', None)
    primed = fields is not None and 'processor' not in fields
    architecture = platform.architecture
    if primed:
        fields['processor'] = ''
    platform.architecture = functools.partial(architecture, executable='')
    try:
        yield
    finally:
        platform.architecture = architecture
        if primed:
            fields.pop('processor', None)


PYROUTE2_IMPORT_ERROR = None
try:
    _register_bare_package()
    with _without_platform_probes():
        from pyroute2.netlink import nla
        from pyroute2.netlink.exceptions import NetlinkDumpInterrupted, NetlinkError
        from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
        from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
        from pyroute2.netlink.rtnl.nsidmsg import nsidmsg
        from pyroute2.netlink.rtnl.rtmsg import rtmsg
except ImportError:
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()
    nla = ifinfmsg = ifaddrmsg = rtmsg = nsidmsg = None

    class NetlinkError(Exception):  # type: ignore[no-redef]
        """Stand-in so that ``except NetlinkError`` stays valid without pyroute2."""

        code = 0

    class NetlinkDumpInterrupted(NetlinkError):  # type: ignore[no-redef]
        """Stand-in, as NetlinkError."""

HAS_PYROUTE2 = PYROUTE2_IMPORT_ERROR is None

__all__ = ['HAS_PYROUTE2', 'DumpSocket', 'NetlinkDumpInterrupted', 'NetlinkError', 'ensure_pyroute2', 'open_iproute']

# Completes missing_required_lib's line with what to do about it.
MISSING_REASON = ('to talk netlink: install the python3-pyroute2 package (or pyroute2 in the interpreter Ansible uses), '
                  'or run the linuxnet.ipvlan.prereqs role')

# The system interpreters a distribution package (python3-pyroute2) installs into.
SYSTEM_INTERPRETERS = ['/usr/bin/python3', '/usr/libexec/platform-python', '/usr/bin/python']

# Runs under any Python, 2.7 included: prints "MAJOR MINOR HAS_PYROUTE2". It imports a module the
# engine needs, not the bare package: an empty pyroute2 directory imports as a namespace package.
_PROBE = ('import sys\n'
          'try:\n    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg\n    found = 1\nexcept Exception:\n    found = 0\n'
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
    # Imported only here: a module run that has pyroute2 never needs them.
    from ansible.module_utils.common.respawn import has_respawned, respawn_module  # pylint: disable=import-outside-toplevel

    msg = missing_required_lib('pyroute2 >= 0.7.2', reason=MISSING_REASON)
    if not has_respawned():
        interpreter, too_old = pick_interpreter(SYSTEM_INTERPRETERS, module.run_command)
        if interpreter:
            respawn_module(interpreter)  # does not return
        if too_old:
            msg += (' pyroute2 was found only under %s, older than the Python >= %s the modules need.'
                    % (', '.join(too_old), version_text(PYTHON_FLOOR)))
    # One actionable line: the ImportError's traceback adds nothing the message does not say.
    module.fail_json(msg=msg)


def open_iproute():
    """A netlink socket for changes, in the calling thread's current network namespace.

    ext_ack makes the kernel explain its errors ('Unknown device type'
    instead of 'Operation not supported').
    """
    from pyroute2.iproute.linux import IPRoute  # pylint: disable=import-outside-toplevel

    return IPRoute(ext_ack=True)


# --- reading -------------------------------------------------------------------------

NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 0x2
NLMSG_DONE = 0x3
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNSID = 18, 22, 26, 90
RTEXT_FILTER_SKIP_STATS = 1 << 3    # counters are never read: the kernel need not send them
SIOCGIFINDEX = 0x8933
SOL_NETLINK, NETLINK_GET_STRICT_CHK = 270, 12
_IFREQ = struct.Struct('16si20x')    # struct ifreq: the name, then ifr_ifindex in a 24-byte union
_BUFSIZE = 1 << 16


class DumpSocket:
    """A NETLINK_ROUTE socket in the namespace it was opened in, for reading only."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE)
        self._sock.bind((0, 0))
        self._seq = 0

    def close(self):
        self._sock.close()

    def links(self):
        return self._ask(ifinfmsg, RTM_GETLINK, NLM_F_DUMP, [('IFLA_EXT_MASK', RTEXT_FILTER_SKIP_STATS)])

    def ifindex(self, name):
        """The index of the link NAME in this socket's namespace, or None.

        SIOCGIFINDEX (what if_nametoindex asks) works on any socket and answers for the
        socket's namespace: no netlink round trip, no message to decode.
        """
        try:
            answer = fcntl.ioctl(self._sock.fileno(), SIOCGIFINDEX, _IFREQ.pack(name.encode('utf-8'), 0))
        except OSError as exc:
            if exc.errno == errno.ENODEV:
                return None
            raise
        return _IFREQ.unpack(answer)[1]

    def addresses(self):
        return self._ask(ifaddrmsg, RTM_GETADDR, NLM_F_DUMP)

    def routes(self, family):
        """The routes of FAMILY (AF_INET or AF_INET6) in every table.

        One family per dump: a dump of both (AF_UNSPEC) answered with the IPv4 routes only
        on a 6.18 kernel.
        """
        return self._ask(rtmsg, RTM_GETROUTE, NLM_F_DUMP, family=family)

    def has_table(self, family, table):
        """Does routing TABLE of FAMILY exist?  A dump filtered by table, under strict checking,
        answers ENOENT ("FIB table does not exist") for a table the kernel never made; an empty
        dump means an empty table."""
        self._sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
        try:
            self._ask(rtmsg, RTM_GETROUTE, NLM_F_DUMP, [('RTA_TABLE', table)], family=family)
        except NetlinkError as exc:
            if exc.code == errno.ENOENT:
                return False
            raise
        finally:
            self._sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 0)
        return True

    def netnsid(self, fd):
        """The id this namespace gives the namespace of FD (-1: none yet)."""
        return self._ask(nsidmsg, RTM_GETNSID, 0, [('NETNSA_FD', fd)])[0].get_attr('NETNSA_NSID')

    def _ask(self, msg_class, msg_type, flags, attrs=(), family=0):
        """The answer's messages; NetlinkDumpInterrupted when a concurrent change interrupted the dump
        (the reader's ``consistent`` reads it again)."""
        answer, interrupted = self._exchange(msg_class, msg_type, flags, attrs, family)
        if interrupted:
            raise NetlinkDumpInterrupted()
        return answer

    def _exchange(self, msg_class, msg_type, flags, attrs, family):
        self._seq += 1
        request = msg_class()
        request['header']['type'] = msg_type
        request['header']['flags'] = NLM_F_REQUEST | flags
        request['header']['sequence_number'] = self._seq
        request['family'] = family
        request['attrs'] = list(attrs)
        request.encode()
        self._sock.send(request.data)
        answer, interrupted = [], False
        while True:
            data, _ancillary, msg_flags, _address = self._sock.recvmsg(_BUFSIZE)
            if msg_flags & socket.MSG_TRUNC:
                raise NetlinkError(errno.EMSGSIZE, 'netlink answer longer than %d bytes' % _BUFSIZE)
            offset = 0
            while offset + NLMSGHDR.size <= len(data):
                length, kind, nl_flags, seq, _port = NLMSGHDR.unpack_from(data, offset)
                if length < NLMSGHDR.size:
                    break
                if seq == self._seq:
                    interrupted = interrupted or bool(nl_flags & NLM_F_DUMP_INTR)
                    if kind in (NLMSG_DONE, NLMSG_ERROR):
                        # Both carry a negative errno after the header when the request failed
                        # (a dump's end message too: a dump can fail).
                        code = 0
                        if length >= NLMSGHDR.size + 4:
                            code = -struct.unpack_from('i', data, offset + NLMSGHDR.size)[0]
                        if code > 0:
                            raise NetlinkError(code)
                        return answer, interrupted
                    msg = msg_class(data, offset=offset)
                    msg.decode()
                    answer.append(msg)
                    if not flags & NLM_F_DUMP:
                        return answer, interrupted
                offset += (length + 3) & ~3
