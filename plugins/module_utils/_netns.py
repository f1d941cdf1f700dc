# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Named network namespaces, compatible with ``ip netns`` in both directions.

A named namespace is an nsfs bind mount at /run/netns/NAME, exactly what
iproute2 creates.  Everything here runs in the calling thread without forking:
pyroute2's own helpers fork a child per open and create missing namespaces by
default (O_CREAT), which a read path must never do.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os

NETNS_RUN_DIR = '/run/netns'
CLONE_NEWNET = 0x40000000
MS_REC = 0x4000
MS_BIND = 0x1000
MS_SHARED = 1 << 20
MNT_DETACH = 2

_libc = None


def _c():
    # CDLL(None) resolves libc symbols from the running interpreter (glibc and
    # musl) without running ldconfig, which find_library('c') would.
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, '%s: %s' % (what, os.strerror(err)))


def netns_path(name):
    return os.path.join(NETNS_RUN_DIR, name)


def list_netns():
    """Names of the named namespaces, sorted (like ``ip netns list``)."""
    return sorted(os.path.basename(m) for m in _netns_mounts())


def netns_exists(name):
    return netns_path(name) in _netns_mounts()


def _netns_mounts():
    # A leftover plain file (a half-finished "ip netns add") is not a namespace:
    # only nsfs mounts in the run directory count.
    run_dir = os.path.realpath(NETNS_RUN_DIR)
    found = set()
    try:
        with open('/proc/self/mountinfo') as mounts:
            for line in mounts:
                fields = line.split()
                fstype = fields[fields.index('-') + 1]
                if fstype == 'nsfs' and os.path.dirname(fields[4]) == run_dir:
                    found.add(os.path.join(NETNS_RUN_DIR, os.path.basename(fields[4])))
    except OSError:
        pass
    return found


def _prepare_run_dir():
    """Make /run/netns a shared mount, as iproute2 does, so mounts propagate."""
    os.makedirs(NETNS_RUN_DIR, mode=0o755, exist_ok=True)
    libc = _c()
    path = NETNS_RUN_DIR.encode()
    if libc.mount(b'none', path, None, MS_SHARED | MS_REC, None) == 0:
        return
    if ctypes.get_errno() != errno.EINVAL:
        _check(-1, 'make %s shared' % NETNS_RUN_DIR)
    # Not a mount point yet: bind it onto itself, then retry.
    _check(libc.mount(path, path, b'none', MS_BIND | MS_REC, None), 'bind %s' % NETNS_RUN_DIR)
    _check(libc.mount(b'none', path, None, MS_SHARED | MS_REC, None), 'make %s shared' % NETNS_RUN_DIR)


def _setns(fd):
    _check(_c().setns(fd, CLONE_NEWNET), 'setns')


def create_netns(name):
    """Create the named namespace; raises FileExistsError if it exists."""
    _prepare_run_dir()
    path = netns_path(name)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
    saved = os.open('/proc/thread-self/ns/net', os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check(_c().unshare(CLONE_NEWNET), 'unshare')
        try:
            _check(_c().mount(b'/proc/thread-self/ns/net', path.encode(), b'none', MS_BIND, None),
                   'bind mount %s' % path)
        finally:
            _setns(saved)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    finally:
        os.close(saved)


def remove_netns(name):
    """Unmount and unlink the namespace (the kernel frees it once unused)."""
    path = netns_path(name)
    _check(_c().umount2(path.encode(), MNT_DETACH), 'unmount %s' % path)
    os.unlink(path)


def pids_in_netns(name):
    """Processes whose network namespace is NAME: they keep it alive after removal."""
    try:
        target = os.stat(netns_path(name))
    except OSError:
        return []
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            st = os.stat('/proc/%s/ns/net' % entry)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            pids.append(int(entry))
    return sorted(pids)


@contextlib.contextmanager
def entered(name):
    """Switch this thread into namespace NAME (None: stay) and always switch back.

    Raises FileNotFoundError when the namespace does not exist: it is never created.
    """
    if name is None:
        yield
        return
    target = os.open(netns_path(name), os.O_RDONLY | os.O_CLOEXEC)
    saved = None
    try:
        # /proc/1/ns/net is not always readable (sandboxes): save our own instead.
        saved = os.open('/proc/thread-self/ns/net', os.O_RDONLY | os.O_CLOEXEC)
        _setns(target)
        try:
            yield
        finally:
            _setns(saved)
    finally:
        os.close(target)
        if saved is not None:
            os.close(saved)


def open_netns_fd(name):
    """An fd for namespace NAME, or for the caller's own namespace when NAME is None."""
    path = '/proc/thread-self/ns/net' if name is None else netns_path(name)
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
