# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read a namespace with the collection's reader and count the dumps the kernel interrupted.

    python dump_probe.py NETNS READS DEV COUNT

Run by test_faults.py under each pyroute2 (with the collection on PYTHONPATH) while addresses
change in NETNS. Prints one JSON object: reads, the dumps sent and the dumps the kernel flagged
as interrupted (NLM_F_DUMP_INTR) by the reader's calls, and whether every read found exactly
the COUNT addresses of DEV that do not change.
"""

from __future__ import annotations

import json
import sys

from ansible_collections.linuxnet.ipvlan.plugins.module_utils import _netns
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import DumpSocket, NetlinkDumpInterrupted
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._reader import read_namespace


class Counting:
    """The reader's socket, whose address dumps are counted, interrupted ones apart."""

    def __init__(self, sock):
        self.sock = sock
        self.dumps = self.interrupted = 0

    def __getattr__(self, name):
        return getattr(self.sock, name)

    def addresses(self):
        self.dumps += 1
        try:
            return self.sock.addresses()
        except NetlinkDumpInterrupted:
            self.interrupted += 1
            raise


def main(netns, reads, dev, count):
    with _netns.entered(netns):
        sock = Counting(DumpSocket())
    consistent = True
    try:
        for _read in range(reads):
            namespace = read_namespace(sock, netns)
            stable = [a for a in namespace.addresses_of(dev) if a.ip.network.prefixlen == 32
                      and str(a.ip.ip).startswith('10.')]
            consistent = consistent and len(stable) == len({a.ip for a in stable}) == count
    finally:
        sock.close()
    print(json.dumps({'reads': reads, 'dumps': sock.dumps, 'interrupted': sock.interrupted, 'consistent': consistent}))


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
