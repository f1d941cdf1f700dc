# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The kernel side: a netlink session per module run, the world it reads, the applier.

A session enters a namespace (a setns in this thread, no fork) to open a socket
there, and keeps it: a netlink socket stays bound to the namespace it was
created in.  Two kinds: a DumpSocket for reading (every namespace read), and an
IPRoute for changes (only the namespaces a plan changes: a no-change run never
imports IPRoute).  Every socket is closed when the session ends.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time

from ansible_collections.linuxnet.ipvlan.plugins.module_utils import _netns
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._caps import CAP_SYS_ADMIN, require
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError, explain
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    ROOT,
    Namespace,
    World,
    is_netns_path,
    netns_label,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._notify import open_monitor, others_changed
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import DumpSocket, NetlinkError, open_iproute
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._reader import read_namespace, resolve_masters

# How long deleting a namespace waits for the kernel to take its veth peers elsewhere with it.
PEER_PATIENCE = 10.0


class Session:
    """Netlink sockets by namespace, plus the operations actions need."""

    def __init__(self):
        self._sockets = {}      # netns -> IPRoute, for changes
        self._readers = {}      # netns -> DumpSocket, for reading
        self._identities = {}   # netns -> the namespace its sockets reach (see refresh)
        self._monitors = {}     # netns -> a socket hearing who else changes it (see others_changed)
        self._ports = set()     # the netlink ports of our own changing sockets
        self._names = None   # the named namespaces, listed once: mountinfo grows with each one
        self._unnamed = None  # paths to the others (processes', container runtimes'), found once

    def close(self):
        for netns in list(self._identities):
            self.forget(netns)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def ipr(self, netns):
        """The socket that changes NETNS (pyroute2's IPRoute)."""
        if netns not in self._sockets:
            self._ports.add(self._open(self._sockets, netns, open_iproute).getsockname()[0])
        return self._sockets[netns]

    def reader(self, netns):
        """The socket that reads NETNS (a DumpSocket)."""
        return self._open(self._readers, netns, DumpSocket)

    def _open(self, sockets, netns, factory):
        if netns not in sockets:
            try:
                with _netns.entered(netns):
                    if netns not in self._identities:   # first entry: the monitor hears from the first read on
                        self._monitors[netns] = open_monitor()
                        self._identities[netns] = _netns.identity(ROOT)   # the one this thread is in
                    sockets[netns] = factory()
            except FileNotFoundError:
                raise TaskError('%s does not exist' % netns_label(netns))
            except PermissionError:
                # setns: the kernel's word for a missing CAP_SYS_ADMIN.
                require(CAP_SYS_ADMIN, 'entering %s' % netns_label(netns))
                raise
        return sockets[netns]

    def forget(self, netns):
        self._identities.pop(netns, None)
        for sockets in (self._sockets, self._readers, self._monitors):
            sock = sockets.pop(netns, None)
            if sock is not None:
                sock.close()

    def others_changed(self):
        """Did another process add or remove an address or a route, in a namespace this session
        read, since it read it?  Then what verification finds left is a race."""
        changed = False
        for monitor in self._monitors.values():   # every one is read: what it holds is stale next time
            changed = others_changed(monitor, self._ports) or changed
        return changed

    # --- reading -----------------------------------------------------------------

    def names(self):
        if self._names is None:
            self._names = _netns.list_netns()
        return self._names

    def unnamed(self):
        if self._unnamed is None:
            self._unnamed = _netns.unnamed_netns()
        return self._unnamed

    def read(self, netns):
        if is_netns_path(netns):
            problem = _netns.path_problem(netns)
            if problem is not None or not os.path.exists(netns):
                return Namespace(netns, exists=False, leftover=problem)
        elif netns is not ROOT and netns not in self.names():
            return Namespace(netns, exists=False, leftover=_netns.leftover(netns))
        try:
            sock = self.reader(netns)
        except TaskError:
            # Removed by someone else since it was listed (container runtimes, other runs), or
            # its process ended: it is gone, not an error.
            if not (_netns.path_exists(netns) if is_netns_path(netns) else _netns.netns_exists(netns)):
                return Namespace(netns, exists=False)
            raise
        namespace = read_namespace(sock, netns)
        # The namespace of a master or peer is found among all of them, named ones first.
        return resolve_masters(sock, namespace, lambda: [ROOT] + self.names() + self.unnamed(),
                               _netns.open_netns_fd)

    def world(self):
        return World(loader=self.read, names=self.names, unnamed=self.unnamed, identify=_netns.identity)

    def ifindex(self, netns, name):
        found = self.reader(netns).ifindex(name)
        if found is None:
            raise TaskError('link %s not found in %s' % (name, netns_label(netns)))
        return found

    def wait_gone(self, links, patience=PEER_PATIENCE):
        """Wait until LINKS, (netns, ifindex) each, are gone; a namespace that some process still
        holds keeps them: after PATIENCE seconds, stop waiting (verification then shows them)."""
        deadline = time.monotonic() + patience
        for netns, index in links:
            while time.monotonic() < deadline:
                try:
                    self.ipr(netns).link('get', index=index)
                except NetlinkError as exc:
                    if exc.code == errno.ENODEV:
                        break
                    raise
                time.sleep(0.01)

    # --- namespaces --------------------------------------------------------------

    def create_netns(self, name, repair=False):
        self._names = None
        _netns.create_netns(name, repair)

    def delete_netns(self, name):
        self._names = None
        self.forget(name)
        _netns.remove_netns(name)

    @contextlib.contextmanager
    def netns_fd(self, netns, unless=object()):
        """An fd for NETNS to move a link there, or None when it is UNLESS (no move)."""
        if netns == unless:
            yield None
            return
        try:
            fd = _netns.open_netns_fd(netns)
        except FileNotFoundError:
            raise TaskError('%s does not exist' % netns_label(netns))
        try:
            yield fd
        finally:
            os.close(fd)

    # --- capabilities --------------------------------------------------------------

    def ipvlan_supported(self, may_load):
        """Can this kernel make ipvlan links?  Asked before a plan that creates one runs.

        A request for an ipvlan without a master is refused by the kernel's ipvlan code
        (EINVAL) when the driver is there, and by rtnetlink (EOPNOTSUPP, "Unknown device
        type") when it is not: an answer with no side effect, except that the kernel may
        load the module, which the create would do anyway.  When that is not allowed
        (check mode), the module lists say whether it could be loaded.
        """
        if os.path.isdir('/sys/module/ipvlan'):
            return True
        modules = os.path.join('/lib/modules', os.uname().release)
        if not may_load and os.path.isdir(modules):
            return any(_lists_module(os.path.join(modules, name), 'ipvlan')
                       for name in ('modules.builtin', 'modules.dep'))
        try:
            self.ipr(ROOT).link('add', ifname='lnipvlanprobe', kind='ipvlan')
        except NetlinkError as exc:
            return getattr(exc, 'code', None) != errno.EOPNOTSUPP
        self.ipr(ROOT).link('del', ifname='lnipvlanprobe')   # no kernel accepts it, but never leave it
        return True

    def refresh(self):
        """Forget what was listed, so that the next world() reads the kernel anew.

        True when a namespace this session has a socket in was removed, or replaced by another
        of the same name (ip netns del + add), since the socket was opened: the socket still
        reaches the old namespace, so what was applied through it missed the namespace of that
        name (a race).  Such sockets are closed: the next read opens the namespace by name.
        """
        self._names = self._unnamed = None
        stale = [netns for netns in self._identities
                 if netns is not ROOT and self._identities[netns] != _netns.identity(netns)]
        for netns in stale:
            self.forget(netns)
        return bool(stale)

    # --- applying ----------------------------------------------------------------

    def apply_one(self, action):
        """Apply one action; a kernel error becomes a TaskError that explains it."""
        try:
            action.apply(self)
        except TaskError:
            raise
        except (NetlinkError, OSError) as exc:
            raise explain(exc, action)


def _lists_module(path, name):
    try:
        with open(path) as listing:
            return any(line.split(':', 1)[0].rsplit('/', 1)[-1].split('.ko', 1)[0] == name for line in listing)
    except OSError:
        return False


LOCK_PATH = '/run/linuxnet-ipvlan.lock'
# How long a run waits for another one on the same host; a stopped or hung run must not
# stall every play that follows.  The task environment can set LINUXNET_IPVLAN_LOCK_TIMEOUT.
LOCK_TIMEOUT = 120.0


@contextlib.contextmanager
def host_lock(shared=False, path=LOCK_PATH, timeout=None):
    """Serialise the runs of this collection's modules on one host.

    Two plays converging one host at the same instant would otherwise both read,
    both plan the same creation, and one would meet EEXIST.  Each run holds the
    lock from its read to its verification; a check-mode run only reads, so it
    shares it.  flock: released by the kernel when the process dies.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        # Not root (a read-only check of the root namespace can still work): no lock.
        yield
        return
    try:
        _wait_for_lock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX, path, timeout)
        yield
    finally:
        os.close(fd)


def _wait_for_lock(fd, mode, path, timeout):
    if timeout is None:
        timeout = float(os.environ.get('LINUXNET_IPVLAN_LOCK_TIMEOUT', LOCK_TIMEOUT))
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TaskError('another run of this collection on this host has held %s for more than %g s '
                                '(held by pid %s); nothing was changed. If that run is stuck, end it; '
                                'LINUXNET_IPVLAN_LOCK_TIMEOUT sets how long to wait'
                                % (path, timeout, _lock_holder(fd) or 'unknown'))
            time.sleep(0.02)


def _lock_holder(fd):
    """The pid that holds the exclusive flock on FD's file, from /proc/locks."""
    inode = os.fstat(fd).st_ino
    try:
        with open('/proc/locks') as locks:
            for line in locks:
                words = line.split()
                if '->' not in words and 'FLOCK' in words and words[-3].endswith(':%d' % inode):
                    return int(words[-4])
    except (OSError, ValueError, IndexError):
        pass
    return None
