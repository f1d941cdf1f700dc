# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Who changed a namespace while a task ran: the kernel's notifications name the requester.

The notification of an address or a route added or removed carries, as its nlmsg_pid, the
port of the netlink socket whose request made the change, and 0 for a change the kernel made
by itself (a flush when a link goes down).  A port that is neither 0 nor one of the task's own
sockets is another process: what it changed is a race, not a wrong prediction.  (Link
notifications carry 0 whoever asked: they tell nothing, and are not listened to.)
"""

from __future__ import annotations

import errno
import socket

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import NLMSGHDR, RTNLGRP_ADDRESSES_AND_ROUTES


def open_monitor():
    """A non-blocking socket receiving the address and route notifications of the calling
    thread's namespace."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC,
                         socket.NETLINK_ROUTE)
    try:
        groups = 0
        for group in RTNLGRP_ADDRESSES_AND_ROUTES:
            groups |= 1 << (group - 1)
        sock.bind((0, groups))
    except OSError:
        sock.close()
        raise
    return sock


def others_changed(sock, ours):
    """Read what SOCK received; True when a change came from a port neither 0 nor in OURS, or
    when the kernel dropped notifications (the socket overran: anything may have happened)."""
    found = False
    while True:
        try:
            data = sock.recv(1 << 16)
        except BlockingIOError:
            return found
        except OSError as exc:
            if exc.errno != errno.ENOBUFS:
                raise
            found = True
            continue
        offset = 0
        while offset + NLMSGHDR.size <= len(data):
            length, _type, _flags, _sequence, port = NLMSGHDR.unpack_from(data, offset)
            found = found or port not in ours and port != 0
            offset += max((length + 3) & ~3, NLMSGHDR.size)
