# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/ping_matrix.yml and playbooks/fleet_picture.yml on this host, as `make lab` runs them.

This kernel has no ipvlan, so the namespaces are joined by a veth pair (fa, fb) and one stands
alone (fc): the matrix has answered and failed cells. Everything happens under a private
/run/netns (private_netns.py), so both playbooks see only these namespaces.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import helpers
from private_netns import private_run_netns

MARKER = "managed-by=linuxnet.ipvlan"   # on lo: the ping matrix's namespaces


def make_namespaces() -> None:
    for name in ("fa", "fb", "fc"):
        helpers.add_netns(name)
        helpers.ip("link", "set", "dev", "lo", "up", "alias", MARKER, netns=name)
    helpers.add_veth("fa", "fb", "va", "vb", up=True)
    helpers.add_veth("fc", "fc", "vc", "vd", up=False)
    for netns, dev, v4, v6 in (("fa", "va", "192.0.2.1/24", "2001:db8::1/64"),
                               ("fb", "vb", "192.0.2.2/24", "2001:db8::2/64")):
        helpers.ip("address", "add", v4, "dev", dev, netns=netns)
        helpers.ip("address", "add", v6, "dev", dev, "nodad", netns=netns)
    helpers.ip("address", "add", "198.51.100.3/24", "dev", "vc", netns="fc")
    helpers.ip("link", "set", "dev", "vc", "up", netns="fc")


def path_without_dot(tmp_path) -> str:
    """PATH with Graphviz's dot hidden: its directories' other programs linked into one directory."""
    hidden = tmp_path / "bin-without-dot"
    hidden.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if os.path.isfile(os.path.join(directory, "dot")):
            for program in os.listdir(directory):
                if program != "dot" and not (hidden / program).exists():
                    (hidden / program).symlink_to(os.path.join(directory, program))
    return os.pathsep.join(str(hidden) if os.path.isfile(os.path.join(d, "dot")) else d
                           for d in os.environ["PATH"].split(os.pathsep))


def playbook(tmp_path, name: str, path: str | None = None, **extra_vars) -> subprocess.CompletedProcess[str]:
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"ipvlan_hosts": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(helpers.COLLECTIONS_PATH), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=str(tmp_path / "none.cfg"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), PATH=path or os.environ["PATH"])
    argv = [str(helpers.ANSIBLE_PLAYBOOK), "-i", str(inventory), str(helpers.REPO_ROOT / "playbooks" / name),
            "-e", json.dumps(extra_vars)]
    return subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)


def recap_changed(proc: subprocess.CompletedProcess[str]) -> int:
    line = next(line for line in proc.stdout.splitlines() if line.startswith("localhost ") and "changed=" in line)
    return int(line.split("changed=")[1].split()[0])


def test_ping_matrix_cells_and_the_fleet_picture(tmp_path):
    out = tmp_path / "lab"
    cells_file = out / "ping-matrix.json"
    out.mkdir()
    with private_run_netns():
        make_namespaces()
        pings = playbook(tmp_path, "ping_matrix.yml", ping_matrix_results_file=str(cells_file))
        picture = playbook(tmp_path, "fleet_picture.yml", fleet_picture_dir=str(out),
                           fleet_picture_ping_results=str(cells_file))
        again = playbook(tmp_path, "fleet_picture.yml", fleet_picture_dir=str(out),
                         fleet_picture_ping_results=str(cells_file))
        no_dot = playbook(tmp_path, "fleet_picture.yml", path_without_dot(tmp_path),
                          fleet_picture_dir=str(tmp_path / "no-dot"))

    assert pings.returncode != 0 and "localhost/fc -> localhost/fa (192.0.2.1): FAIL" in pings.stdout, pings.stdout
    cells = {(c["src_netns"], c["dst_netns"], c["address"]): c["result"] for c in json.loads(cells_file.read_text())}
    assert cells == {
        ("fa", "fb", "192.0.2.2"): "ok", ("fa", "fb", "2001:db8::2"): "ok", ("fa", "fc", "198.51.100.3"): "FAIL",
        ("fb", "fa", "192.0.2.1"): "ok", ("fb", "fa", "2001:db8::1"): "ok", ("fb", "fc", "198.51.100.3"): "FAIL",
        ("fc", "fa", "192.0.2.1"): "FAIL", ("fc", "fa", "2001:db8::1"): "FAIL",
        ("fc", "fb", "192.0.2.2"): "FAIL", ("fc", "fb", "2001:db8::2"): "FAIL",
    }

    assert picture.returncode == 0, picture.stdout + picture.stderr
    assert f"The fleet picture: {out}/fleet.svg" in picture.stdout
    dot_text = (out / "fleet.dot").read_text(encoding="utf-8")
    for line in ('label="netns fa"', 'label="va\\nveth\\n192.0.2.1/24\\n2001:db8::1/64"',
                 'label="vd\\nveth, down"', 'label="ping 198.51.100.3 FAIL"', 'label="ping 192.0.2.1 FAIL"'):
        assert line in dot_text, dot_text
    assert "ping 192.0.2.2 ok" not in dot_text   # only the problems are arrows by default
    svg = (out / "fleet.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "198.51.100.3/24" in svg and "FAIL" in svg
    assert shutil.which("dot"), "the svg came from dot, which make setup installs"

    assert again.returncode == 0 and recap_changed(again) == 0, again.stdout   # nothing to write or render

    # without dot: the DOT document, and how to render it
    assert no_dot.returncode == 0, no_dot.stdout + no_dot.stderr
    assert sorted(os.listdir(tmp_path / "no-dot")) == ["fleet.dot"]
    assert "no dot program. Install the graphviz package and run: dot -Tsvg -o" in " ".join(no_dot.stdout.split())
