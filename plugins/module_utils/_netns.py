# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Named network namespaces, compatible with ``ip netns`` in both directions, and the
namespaces without a name that other tools hold (a process's, a container runtime's).

A named namespace is an nsfs bind mount of a network namespace at
/run/netns/NAME, exactly what iproute2 creates.  Anything else there is a
leftover: the empty file of a create that was interrupted (ours or ip's), or
something another tool put there (a mount of something else, a link, a
directory).  Names are one path component: nothing here ever leaves
/run/netns, and nothing follows a symbolic link found there.

Everything runs in the calling thread without forking: pyroute2's own
helpers fork a child per open and create missing namespaces by default
(O_CREAT), which a read path must never do.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import fcntl
import re
import stat
import time
from dataclasses import dataclass

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._caps import CAP_SYS_ADMIN, require
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._faults import fault_point
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import Leftover, display_name, is_netns_path

NETNS_RUN_DIR = '/run/netns'
CLONE_NEWNET = 0x40000000
NS_GET_NSTYPE = 0xb703   # ioctl on a namespace file (Linux 4.11): the CLONE_NEW* type of its namespace
MS_REC = 0x4000
MS_BIND = 0x1000
MS_SHARED = 1 << 20
MNT_DETACH = 2
UMOUNT_NOFOLLOW = 8
MAX_STACKED_MOUNTS = 64   # mounts stacked on one name that removal takes off, at most

LEFTOVER_FILE = 'leftover file'

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
    """/run/netns/NAME; a NAME that is not one path component never gets here."""
    if not name or name in ('.', '..') or '/' in name or '\0' in name:
        raise ValueError('not a namespace name: %r' % (name,))
    return os.path.join(NETNS_RUN_DIR, name)


# --- /proc/self/mountinfo -------------------------------------------------------------

_ESCAPE = re.compile(rb'\\([0-7]{3})')


def unescape(field):
    """A mountinfo path field as bytes: the kernel writes space, tab, newline and
    backslash as octal escapes (\\040, \\011, \\012, \\134)."""
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 8) & 0xff]), field)


@dataclass(frozen=True)
class Mount:
    point: bytes    # where it is mounted
    root: bytes     # what of its filesystem is mounted there: 'net:[4026532178]' for a namespace
    fstype: str
    source: str

    @property
    def is_netns(self):
        return self.fstype == 'nsfs' and self.root.startswith(b'net:[')

    def describe(self):
        if self.fstype == 'nsfs':
            return 'a mount of %s, not a network namespace' % os.fsdecode(self.root)
        root = os.fsdecode(self.root).replace('//deleted', ' (deleted)')
        return 'a %s mount of %s from %s' % (self.fstype, root, self.source)


def parse_mountinfo(data):
    """Mounts from the bytes of /proc/PID/mountinfo, in mount order."""
    mounts = []
    for line in data.split(b'\n'):
        fields = line.split(b' ')
        if len(fields) < 10 or b'-' not in fields[6:]:
            continue
        sep = fields.index(b'-', 6)
        mounts.append(Mount(point=unescape(fields[4]), root=unescape(fields[3]),
                            fstype=os.fsdecode(fields[sep + 1]), source=os.fsdecode(unescape(fields[sep + 2]))))
    return mounts


def _top_mounts():
    """The mount each path of the run directory shows (the last one mounted there), by name."""
    run_dir = os.fsencode(os.path.realpath(NETNS_RUN_DIR)) + b'/'
    found = {}
    for mount in _mounts():
        name = mount.point[len(run_dir):]
        if mount.point.startswith(run_dir) and name and b'/' not in name:
            found[os.fsdecode(name)] = mount
    return found


# --- what is in /run/netns ------------------------------------------------------------

def _entries():
    try:
        return os.listdir(NETNS_RUN_DIR)
    except (FileNotFoundError, NotADirectoryError):
        return []


def list_netns():
    """Names of the named namespaces, sorted: the entries of /run/netns (as ``ip netns list``
    shows them) that are network namespaces.  Leftovers are not namespaces."""
    mounts = _top_mounts()
    return sorted(name for name in _entries() if name in mounts and mounts[name].is_netns)


def netns_exists(name):
    mount = _top_mounts().get(name)
    return mount is not None and mount.is_netns and os.path.lexists(netns_path(name))


def leftover(name):
    """What holds /run/netns/NAME when it is not a network namespace, or None."""
    path = netns_path(name)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    mount = _top_mounts().get(name)
    if mount is not None:
        return None if mount.is_netns else Leftover(mount.describe())
    if stat.S_ISREG(st.st_mode) and st.st_size == 0:
        return Leftover(LEFTOVER_FILE, repairable=True)
    if stat.S_ISREG(st.st_mode):
        return Leftover('a file of %d bytes' % st.st_size)
    if stat.S_ISLNK(st.st_mode):
        return Leftover('a symbolic link to %s' % os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        return Leftover('a directory')
    return Leftover('a special file (mode %o)' % st.st_mode)


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
    fault_point('run-dir-bound')
    _check(libc.mount(b'none', path, None, MS_SHARED | MS_REC, None), 'make %s shared' % NETNS_RUN_DIR)


def _setns(fd):
    _check(_c().setns(fd, CLONE_NEWNET), 'setns')


# iproute2 mounts the namespace on the file it made within milliseconds: a younger empty file
# may be another tool's create in progress, not a leftover, and two namespaces would stack there.
LEFTOVER_GRACE = 1.0


def _open_leftover_file(path):
    """The empty, unmounted file of an interrupted create, opened without following links."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    st = os.fstat(fd)
    time.sleep(max(0.0, st.st_ctime + LEFTOVER_GRACE - time.time()))
    if not stat.S_ISREG(st.st_mode) or st.st_size != 0 or os.path.basename(path) in _top_mounts():
        os.close(fd)
        raise OSError(errno.EEXIST, '%s is no longer an empty leftover file' % path)
    return fd


def create_netns(name, repair=False):
    """Create the named namespace, as ``ip netns add`` does.

    Raises FileExistsError if the name is taken.  REPAIR finishes a create that
    was interrupted after making the empty file.  Killed at any point, this leaves
    either nothing, that empty file (which REPAIR finishes), or the namespace.
    """
    require(CAP_SYS_ADMIN, 'create namespace %s' % display_name(name))
    path = netns_path(name)
    _prepare_run_dir()
    if repair:
        fd = _open_leftover_file(path)
    else:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0)
    saved = None
    try:
        fault_point('netns-file')
        saved = os.open('/proc/thread-self/ns/net', os.O_RDONLY | os.O_CLOEXEC)
        _check(_c().unshare(CLONE_NEWNET), 'unshare')
        try:
            fault_point('netns-unshared')
            # Mounted on the file just opened (its /proc/self/fd link), never on whatever
            # the name may point to by now.
            _check(_c().mount(b'/proc/thread-self/ns/net', b'/proc/self/fd/%d' % fd, b'none', MS_BIND, None),
                   'bind mount %s' % path)
            fault_point('netns-mounted')
        finally:
            _setns(saved)
    except OSError:
        if not repair:
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise
    finally:
        os.close(fd)
        if saved is not None:
            os.close(saved)


def remove_netns(name):
    """Remove whatever holds /run/netns/NAME: every mount stacked there, then the entry.

    A namespace goes once its last user is gone; a symbolic link is removed, never followed.
    """
    require(CAP_SYS_ADMIN, 'remove namespace %s' % display_name(name))
    path = netns_path(name)
    for _unused in range(MAX_STACKED_MOUNTS):
        if name not in _top_mounts():
            break
        _check(_c().umount2(path.encode(), MNT_DETACH | UMOUNT_NOFOLLOW), 'unmount %s' % path)
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            os.rmdir(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass   # removed by someone else meanwhile: gone is what was asked


def pids_in_netns(name):
    """Processes whose network namespace is NAME: they keep it alive after removal."""
    try:
        target = os.lstat(netns_path(name))
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


def _open_netns(ref):
    if is_netns_path(ref):
        return open_netns_file(ref)
    return os.open(netns_path(ref), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)


# --- namespaces given by path -----------------------------------------------------------
# /proc/PID/ns/net, or a bind mount of one anywhere (a container runtime's /run/docker/netns/ID):
# such a namespace belongs to whoever holds it, and is only ever read, entered and moved into.

def reference_path(ref):
    """The file that reaches namespace REF: a path as given, a name under /run/netns."""
    return ref if is_netns_path(ref) else netns_path(ref)


def identity(ref):
    """(st_dev, st_ino) of the namespace REF reaches (None: the module's own), or None when nothing
    is there.  A name's entry is never followed (a symbolic link there is a leftover); a path is,
    since /proc/PID/ns/net is itself a link."""
    if ref is None:
        path, follow = '/proc/thread-self/ns/net', True
    else:
        path, follow = reference_path(ref), is_netns_path(ref)
    try:
        st = os.stat(path, follow_symlinks=follow)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


def path_problem(path):
    """What PATH is when it is there but is not a network namespace (a Leftover), else None."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return Leftover('a path through something that is not a directory')
    except OSError as exc:
        return Leftover('unreadable (%s)' % exc.strerror)
    if stat.S_ISDIR(st.st_mode):
        return Leftover('a directory')
    if not stat.S_ISREG(st.st_mode):
        return Leftover('a special file (mode %o)' % st.st_mode)   # never opened: a FIFO would block
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return Leftover('unreadable (%s)' % exc.strerror)
    try:
        nstype = fcntl.ioctl(fd, NS_GET_NSTYPE)
    except OSError:
        return Leftover('a file of %d bytes' % st.st_size if st.st_size else 'an empty file')
    finally:
        os.close(fd)
    if nstype != CLONE_NEWNET:
        return Leftover('a namespace of another type (%s)' % _NSTYPES.get(nstype, hex(nstype)))
    return None


_NSTYPES = {0x00020000: 'mount', 0x02000000: 'cgroup', 0x04000000: 'uts', 0x08000000: 'ipc',
            0x10000000: 'user', 0x20000000: 'pid', 0x00000080: 'time'}


def open_netns_file(path):
    """PATH opened, once it proved a network namespace; FileNotFoundError otherwise (the reader
    has said what it is: see path_problem)."""
    problem = path_problem(path)
    if problem is not None:
        raise FileNotFoundError(errno.ENOENT, '%s is %s, not a network namespace' % (path, problem.what))
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)


def path_exists(path):
    return os.path.exists(path) and path_problem(path) is None


def unnamed_netns():
    """Paths to the network namespaces this host holds besides those under /run/netns, one per
    namespace (its identity), sorted: a bind mount elsewhere (a container runtime's) when there is
    one, else /proc/PID/ns/net of the lowest PID in it.  The root and named ones come out too;
    the World keys them by their name."""
    found = {}
    run_dir = os.fsencode(os.path.realpath(NETNS_RUN_DIR)) + b'/'
    for mount in _mounts():
        if mount.is_netns and not mount.point.startswith(run_dir):
            _add(found, os.fsdecode(mount.point))
    for pid in sorted(int(entry) for entry in os.listdir('/proc') if entry.isdigit()):
        _add(found, '/proc/%d/ns/net' % pid)
    return sorted(found.values())


def _add(found, path):
    key = identity(path)
    if key is not None:
        found.setdefault(key, path)


def _mounts():
    try:
        with open('/proc/self/mountinfo', 'rb') as source:
            return parse_mountinfo(source.read())
    except OSError:
        return []


@contextlib.contextmanager
def entered(name):
    """Switch this thread into namespace NAME (None: stay) and always switch back.

    Raises FileNotFoundError when the namespace does not exist (or stopped being one while
    it was opened): it is never created.
    """
    if name is None:
        yield
        return
    target = _open_netns(name)
    saved = None
    try:
        # /proc/1/ns/net is not always readable (sandboxes): save our own instead.
        saved = os.open('/proc/thread-self/ns/net', os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            # Not a namespace any more: "ip netns del" unmounts it, then unlinks the file.
            raise FileNotFoundError(errno.ENOENT, '%s is no longer a network namespace' % reference_path(name))
        try:
            yield
        finally:
            _setns(saved)
    finally:
        os.close(target)
        if saved is not None:
            os.close(saved)


def open_netns_fd(name):
    """An fd for namespace NAME (a name or a path), or for the caller's own namespace when NAME is None."""
    if name is None:
        return os.open('/proc/thread-self/ns/net', os.O_RDONLY | os.O_CLOEXEC)
    return _open_netns(name)
