# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VM lab's switch (tests/vmlab/vmlab.py hub), run for real over AF_UNIX datagram sockets.

Two ports, a and b, as two VMs' NICs. It learns, floods the unknown and broadcast, drops a frame
whose destination is on the port it came in on, and sends it back (and logs it) while that port is a
reflective relay: what ipvlan's vepa flag needs of the switch. Absence is never waited for: frames
from one port are handled in order, so the first frame a port receives tells what happened before.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

VMLAB_PY = Path(__file__).resolve().parents[1] / "vmlab" / "vmlab.py"
_spec = importlib.util.spec_from_file_location("vmlab", VMLAB_PY)
vmlab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vmlab)

MAC_A = bytes.fromhex("525400bb0101")
MAC_B = bytes.fromhex("525400bb0102")
BROADCAST = b"\xff" * 6


def ipv4_frame(dst_mac, src_mac, ip_src, ip_dst, proto=1):
    header = bytes([0x45, 0, 0, 28, 0, 0, 0, 0, 64, proto, 0, 0]) + socket.inet_aton(ip_src) + socket.inet_aton(ip_dst)
    return dst_mac + src_mac + b"\x08\x00" + header + bytes(8)


@pytest.fixture
def hub(tmp_path):
    """(port a, port b, hub socket path): the hub process with two bound member sockets."""
    ports, paths = [], [str(tmp_path / name) for name in ("s1-a.sock", "s1-b.sock")]
    for path in paths:
        port = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        port.bind(path)
        port.settimeout(30)
        ports.append(port)
    hub_socket = str(tmp_path / "s1-hub.sock")
    argv = [sys.executable, str(VMLAB_PY), "hub", "--pidfile", str(tmp_path / "hub.pid"), "--socket", hub_socket,
            "--lab-dir", str(tmp_path), "--member", paths[0], "--member", paths[1]]
    proc = subprocess.Popen(argv)  # noqa: S603
    try:
        while not os.path.exists(hub_socket):
            assert proc.poll() is None, "the hub exited"
            time.sleep(0.01)
        yield ports[0], ports[1], hub_socket, paths
    finally:
        proc.terminate()
        proc.wait(10)
        for port in ports:
            port.close()


def test_learns_floods_and_relays_only_when_switched_on(hub):
    port_a, port_b, hub_socket, paths = hub
    hello = ipv4_frame(BROADCAST, MAC_A, "192.0.2.1", "192.0.2.255")
    port_a.sendto(hello, hub_socket)
    assert port_b.recv(65536) == hello                       # flooded; MAC_A learned on a

    to_a = ipv4_frame(MAC_A, MAC_B, "192.0.2.2", "192.0.2.1")
    port_b.sendto(to_a, hub_socket)
    assert port_a.recv(65536) == to_a                        # switched to the learned port

    vepa = ipv4_frame(MAC_A, MAC_A, "198.51.100.11", "198.51.100.12")
    port_a.sendto(vepa, hub_socket)                          # relay off: dropped
    port_a.sendto(hello, hub_socket)
    assert port_b.recv(65536) == hello                       # the hub is past the vepa frame
    switch, relay_log = vmlab.relay_paths(paths[0])
    Path(switch).write_text("on\n", encoding="utf-8")
    marked = ipv4_frame(MAC_A, MAC_A, "198.51.100.12", "198.51.100.11")
    port_a.sendto(marked, hub_socket)
    assert port_a.recv(65536) == marked                      # relay on: back out port a, the first frame it got
    port_a.sendto(hello, hub_socket)
    assert port_b.recv(65536) == hello                       # and b never saw either of them

    frames = [json.loads(line) for line in Path(relay_log).read_text(encoding="utf-8").splitlines()]
    assert frames == [{"dst": "52:54:00:bb:01:01", "src": "52:54:00:bb:01:01", "ethertype": 0x0800,
                       "ip_src": "198.51.100.12", "ip_dst": "198.51.100.11", "ip_proto": 1}]


def test_relay_paths_follow_the_member_socket():
    assert vmlab.relay_paths("/lab/s2-vm1.sock") == ("/lab/s2-vm1.relay", "/lab/s2-vm1.relay.jsonl")
