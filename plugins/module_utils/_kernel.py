# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The kernel's numbers, in one place: uapi constants the reader, the actions and the
parameter checks share.  Pure: nothing here imports pyroute2."""

from __future__ import annotations

import struct

IFNAMSIZ = 16          # interface names: 15 bytes plus NUL
IFALIASZ = 256         # interface aliases: 255 bytes plus NUL
NAME_MAX = 255         # a file name under /run/netns

# Capabilities (linux/capability.h), as bit numbers of CapEff in /proc/PID/status.
CAP_NET_ADMIN = 12
CAP_SYS_ADMIN = 21
CAP_NAMES = {CAP_NET_ADMIN: 'CAP_NET_ADMIN', CAP_SYS_ADMIN: 'CAP_SYS_ADMIN'}

IFF_UP = 0x1

NLM_F_DUMP_INTR = 0x10  # a dump that a concurrent change interrupted: it may miss or repeat objects
NLMSGHDR = struct.Struct('=IHHII')   # struct nlmsghdr: length, type, flags, sequence number, port id
# rtnetlink multicast groups: RTNLGRP_IPV4_IFADDR, _IPV4_ROUTE, _IPV6_IFADDR, _IPV6_ROUTE
RTNLGRP_ADDRESSES_AND_ROUTES = (5, 7, 9, 11)

IFA_F_SECONDARY = 0x01  # IPv4 only: the same bit is IFA_F_TEMPORARY for IPv6
IFA_F_NODAD = 0x02
IFA_F_DADFAILED = 0x08
IFA_F_TENTATIVE = 0x40

RTNH_F_ONLINK = 0x04
RTM_F_CLONED = 0x200
RTNH_WEIGHT_MAX = 256   # rtnh_hops is a u8 holding weight - 1

TABLES = {'main': 254, 'default': 253, 'local': 255}
SCOPES = {'universe': 0, 'global': 0, 'site': 200, 'link': 253, 'host': 254, 'nowhere': 255}
SCOPE_NAMES = {0: 'universe', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere'}

PROTO_KERNEL, PROTO_BOOT, PROTO_STATIC, PROTO_RA = 2, 3, 4, 9
KERNEL_PROTOS = (PROTO_KERNEL, PROTO_RA)   # routes the kernel makes and removes by itself
PROTO_NAMES = {0: 'unspec', 1: 'redirect', PROTO_KERNEL: 'kernel', PROTO_BOOT: 'boot', PROTO_STATIC: 'static',
               PROTO_RA: 'ra', 16: 'dhcp'}

IPV6_DEFAULT_METRIC = 1024  # what the kernel stores for an IPv6 route added with metric 0
IPV6_PREFIX_METRIC = 256    # IP6_RT_PRIO_ADDRCONF: the kernel's prefix routes of IPv6 addresses

# Route types (rtm_type).  unicast routes forward; the others answer or drop by themselves.
RTN_TYPES = {'unicast': 1, 'local': 2, 'broadcast': 3, 'anycast': 4, 'multicast': 5,
             'blackhole': 6, 'unreachable': 7, 'prohibit': 8, 'throw': 9, 'nat': 10}
RTN_NAMES = {v: k for k, v in RTN_TYPES.items()}
RTN_UNICAST = RTN_TYPES['unicast']
# The types a task may declare: the rest (local, broadcast, ...) are read, shown and removed, never made.
MANAGED_RTN_TYPES = ('unicast', 'blackhole', 'unreachable', 'prohibit', 'throw')
# Reject routes: no next hop.  IPv6 keeps them on lo (ip6_route_info_create: dev = loopback).
REJECT_RTN_TYPES = ('blackhole', 'unreachable', 'prohibit', 'throw')

# ipvlan port mode and flags (IFLA_IPVLAN_MODE / IFLA_IPVLAN_FLAGS).
IPVLAN_MODES = {'l2': 0, 'l3': 1, 'l3s': 2}
IPVLAN_FLAGS = {'bridge': 0, 'private': 1, 'vepa': 2}
