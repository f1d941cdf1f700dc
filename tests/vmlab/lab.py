# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make lab` / `make lab-down`: the 2-VM lab with the collection's playbook applied.

  lab.py up [--playbook FILE | --no-playbook] [--image bookworm|trixie] [--replace]
  lab.py down

`up` builds or reuses the image, boots VMs vm1 and vm2 joined by segment lan0 (ens4 in
both), writes build/lab/inventory.yml, runs the playbook (default playbooks/site.yml
when it exists) with the venv's ansible-playbook, with the lab inventory plus
playbooks/inventory/vmlab.yml when that exists (--extra-inventory overrides), draws the
fleet (playbooks/fleet_picture.yml: build/lab/fleet.dot, and fleet.svg when Graphviz's
dot is installed) with the ping matrix between every namespace of the lab, prints the
matrix, the picture's path and the SSH command lines.  A lab that is already up is reused.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import vmlab  # noqa: E402  (tests/vmlab/vmlab.py)

LAB = os.environ.get("LINUXNET_LAB_NAME", "lab")
INVENTORY = os.path.join(REPO, "build", "lab", "inventory.yml")
DEFAULT_PLAYBOOK = os.path.join(REPO, "playbooks", "site.yml")
# Inventory added after the lab's own when it exists: maps the lab's VMs onto the playbooks' groups.
DEFAULT_EXTRA_INVENTORY = os.path.join(REPO, "playbooks", "inventory", "vmlab.yml")
EXTRA_INVENTORIES: list[str] = []
PING_MATRIX_PLAYBOOK = os.path.join(REPO, "playbooks", "ping_matrix.yml")
FLEET_PICTURE_PLAYBOOK = os.path.join(REPO, "playbooks", "fleet_picture.yml")
LAB_DIR = os.path.join(REPO, "build", "lab")


def lab_vms(image: str) -> list[dict]:
    return [{"name": f"vm{i}", "image": image, "memory": 1024, "cpus": 1, "segments": ["lan0"]} for i in (1, 2)]


def ansible_tool(name: str) -> str:
    local = os.path.join(os.path.dirname(sys.executable), name)
    if os.access(local, os.X_OK):
        return local
    found = shutil.which(name)
    if not found:
        raise vmlab.VmlabError(f"{name} not found: run `make setup` and use `make lab`")
    return found


def ansible_env() -> dict:
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(REPO, "build", "collections"))
    env.setdefault("ANSIBLE_HOST_KEY_CHECKING", "False")
    env.setdefault("ANSIBLE_PIPELINING", "True")
    env.setdefault("ANSIBLE_CALLBACK_RESULT_FORMAT", "yaml")
    return env


def lab_running(state: dict | None) -> bool:
    return bool(state and state.get("ready") and state.get("vms") and all(
        vmlab.is_ours(vmlab.read_pidfile(vm["pidfile"]), vm["pidfile"], "qemu-system") for vm in state["vms"]))


def inventory_args() -> list[str]:
    args = ["-i", INVENTORY]
    for extra in EXTRA_INVENTORIES:
        args += ["-i", extra]
    return args


def run_playbook(playbook: str, extra: list[str] | None = None) -> None:
    argv = [ansible_tool("ansible-playbook")] + inventory_args() + [playbook] + (extra or [])
    with vmlab.Step(f"ansible-playbook {os.path.relpath(playbook, REPO)}"):
        proc = subprocess.run(argv, env=ansible_env(), cwd=REPO, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise vmlab.VmlabError(f"ansible-playbook {playbook} failed ({proc.returncode}); the lab stays up "
                               "for debugging (make lab-down removes it)")


def ping_matrix_and_picture() -> str:
    """Every namespace pings every other one, across VMs, with the collection's own playbook;
    then the fleet is drawn with the matrix's cells.  Returns the line that says where the picture is.

    The ping playbook writes the matrix (text and cells) before it judges the cells, so the
    matrix is printed whole (Ansible's output wraps it) and the picture drawn even when a cell
    failed; that failure is raised after both.
    """
    matrix = os.path.join(LAB_DIR, "ping-matrix.txt")
    cells = os.path.join(LAB_DIR, "ping-matrix.json")
    for stale in (matrix, cells):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(stale)
    failure = None
    try:
        run_playbook(PING_MATRIX_PLAYBOOK, ["-e", f"ping_matrix_output_file={matrix}",
                                            "-e", f"ping_matrix_results_file={cells}"])
    except vmlab.VmlabError as exc:
        failure = exc
    picture_args = ["-e", json.dumps({"fleet_picture_dir": LAB_DIR, "fleet_picture_title": "make lab"})]
    if os.path.exists(cells):
        picture_args += ["-e", f"fleet_picture_ping_results={cells}"]
    try:
        run_playbook(FLEET_PICTURE_PLAYBOOK, picture_args)
    finally:
        if os.path.exists(matrix):
            with open(matrix, encoding="utf-8") as text:
                print("\n" + text.read())
    picture = picture_note()
    if failure is not None:
        print(picture)
        raise failure
    return picture


def picture_note() -> str:
    """Where the fleet picture is: fleet.svg, or fleet.dot and how to render it."""
    svg, dot = os.path.join(LAB_DIR, "fleet.svg"), os.path.join(LAB_DIR, "fleet.dot")
    if os.path.exists(svg) and os.path.getmtime(svg) >= os.path.getmtime(dot):
        return f"Fleet picture: {os.path.relpath(svg)} (Graphviz source: {os.path.relpath(dot)})"
    return (f"Fleet picture: {os.path.relpath(dot)}, not rendered: no dot program on this machine "
            f"(install the graphviz package, then: dot -Tsvg -o {os.path.relpath(svg)} {os.path.relpath(dot)})")


def cmd_up(args) -> None:
    t0 = time.monotonic()
    if args.extra_inventory:
        EXTRA_INVENTORIES.extend(os.path.abspath(p) for p in args.extra_inventory)
    elif os.path.exists(DEFAULT_EXTRA_INVENTORY):
        EXTRA_INVENTORIES.append(DEFAULT_EXTRA_INVENTORY)
    state = vmlab.load_state(LAB)
    if lab_running(state) and not args.replace:
        vmlab.log(f"lab {LAB} is already up: reusing it (make lab-down, or --replace, to start afresh)")
    else:
        state = vmlab.lab_up(LAB, lab_vms(args.image), replace=True)
    vmlab.write_inventory(state, INVENTORY)
    playbook = None if args.no_playbook else (args.playbook or (DEFAULT_PLAYBOOK if os.path.exists(DEFAULT_PLAYBOOK) else None))
    if playbook:
        run_playbook(os.path.abspath(playbook))
    elif not args.no_playbook:
        vmlab.log(f"no playbook to run ({os.path.relpath(DEFAULT_PLAYBOOK, REPO)} does not exist yet)")
    picture = None if args.no_ping_matrix else ping_matrix_and_picture()
    print(f"\nLab {LAB!r} is up ({vmlab.fmt_secs(time.monotonic() - t0)}). Inventory: {os.path.relpath(INVENTORY)}")
    print("  ansible-playbook " + " ".join(os.path.relpath(a) if a.startswith("/") else a for a in inventory_args())
          + " <playbook>")
    for vm in state["vms"]:
        nics = ", ".join(f"{n['ifname']}={n['segment']}" for n in vm["nics"])
        print(f"  {vm['name']} ({vm['image']}; lab NICs {nics}):")
        print("    " + " ".join(vmlab.ssh_base(state, vm)))
    print("Tear it down with: make lab-down")
    if picture:
        print(picture)


def main() -> int:
    parser = argparse.ArgumentParser(prog="lab.py", description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("up", help="boot (or reuse) the lab and apply the playbook")
    p.add_argument("--playbook", help="playbook to run (default playbooks/site.yml if it exists)")
    p.add_argument("--no-playbook", action="store_true")
    p.add_argument("--extra-inventory", action="append", metavar="FILE",
                   help="inventory added after the lab's (default playbooks/inventory/vmlab.yml if it exists)")
    p.add_argument("--no-ping-matrix", action="store_true")
    p.add_argument("--image", default=os.environ.get("LINUXNET_LAB_IMAGE", "bookworm"), choices=sorted(vmlab.IMAGES))
    p.add_argument("--replace", action="store_true", help="tear down a running lab first")
    sub.add_parser("down", help="tear the lab down")
    args = parser.parse_args()
    vmlab.install_exit_signals()
    try:
        if args.cmd == "up":
            cmd_up(args)
        else:
            vmlab.lab_down(LAB)
            if os.path.exists(INVENTORY):
                os.unlink(INVENTORY)
    except vmlab.VmlabError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
