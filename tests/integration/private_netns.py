# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A private /run/netns for this test process: ``with private_run_netns(): ...``.

Inside, this process (and every child: ip, ansible-playbook, another Python) lists only the named
namespaces it created itself. The property tests need that: topology's purge removes every marked
namespace the host lists, so on a shared host it would remove the namespaces of other test runs,
and theirs would remove ours. Network namespaces and links stay the host's; only the names under
/run/netns are private. When the block ends (or the process dies) the private mount namespace goes,
and with it every namespace only it named: nothing can leak past the process.

The process enters a new mount namespace (unshare), stops mount propagation to the host, detaches
the host's /run/netns entries and mounts a fresh tmpfs there; at the end it returns to the mount
namespace it came from (setns). Both calls require a single-threaded process, as pytest's is.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from typing import Iterator

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
RUN_NETNS = "/run/netns"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mounts_under(directory: str) -> list[str]:
    """Mount points at or below DIRECTORY, deepest first (mountinfo escapes spaces as octal)."""
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == directory or point.startswith(directory + "/"):
                found.append(point)
    return sorted(set(found), key=len, reverse=True)


@contextlib.contextmanager
def private_run_netns() -> Iterator[None]:
    home = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    cwd = os.getcwd()  # setns into a mount namespace moves the process to its root
    try:
        _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        try:
            _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / rprivate")
            for point in _mounts_under(RUN_NETNS):
                _libc.umount2(point.encode(), MNT_DETACH)  # gone already: fine
            os.makedirs(RUN_NETNS, mode=0o755, exist_ok=True)
            _check(_libc.mount(b"lnt-props", RUN_NETNS.encode(), b"tmpfs", 0, b"mode=0755"), "mount tmpfs")
            yield
        finally:
            _check(_libc.setns(home, CLONE_NEWNS), "setns back to the host's mount namespace")
            os.chdir(cwd)
    finally:
        os.close(home)
