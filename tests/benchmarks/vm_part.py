# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Part (b) of bench.py: the ipvlan HOWTO per namespace in one lab VM (`make bench BENCH=all`).

For each N (default 20, 100, 200) namespaces bn0.. each get what the HOWTO gives one: the
namespace, an ipvlan slave bv<i> of the lab NIC (mode l2 bridge) inside it, lo up, the slave up
with one documentation-prefix address, and a default route via .1 of that prefix. Applied by:

  topology module    one linuxnet.ipvlan.topology task (first run, no-change run)
  role               the namespaces role (first, no-change); its no-change run must be ONE module
                     run; at the smallest N also with namespaces_persist on and off again
  ip -batch          a driver in the guest runs `ip -batch` (netns add, link add) and one
                     `ip -n NS -batch` per namespace, then reads each back with `ip -j` and compares
  modules in a loop  (smallest N) netns, ipvlan, link, address and route, each in a loop over the namespaces

Ansible rows are ansible-playbook wall time minus the same playbook with its task skipped (the
fixed cost); `guest` is the module processes' wall time in the guest (timed by the wrapper
interpreter of namespaces_role.py, which also counts them). One repetition per figure: in a
TCG guest every module run costs seconds.
"""

from __future__ import annotations

import json
import os
import re

import namespaces_role as nr
import vmlab
from bench import Ansible, BenchError, log, row

LOOP_MODULES = ("netns", "ipvlan", "link", "address", "route")
MODE = "l2"

# Runs in the guest under python3 (argv: the spec as JSON); prints the timings as JSON. Every
# ip command is an argv list.
IP_DRIVER = r'''
import json, subprocess, sys, time
spec = json.loads(sys.argv[1])
marker = "managed-by=linuxnet.ipvlan owner=default"
def ip(argv, script):
    proc = subprocess.run(["ip"] + argv + ["-batch", "-"], input=script, capture_output=True, text=True)
    if proc.returncode:
        sys.exit("ip %s: %s" % (" ".join(argv), proc.stderr))
    return proc.stdout
def docs(text):
    out, pos, dec = [], 0, json.JSONDecoder()
    text = text.strip()
    while pos < len(text):
        doc, pos = dec.raw_decode(text, pos)
        out.append(doc)
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out
def compare():
    bad = []
    for ns in spec["namespaces"]:
        links, routes = docs(ip(["-j", "-d", "-n", ns["name"]], "address show\nroute show\n"))
        by_name = {l["ifname"]: l for l in links}
        lo, slave = by_name.get("lo", {}), by_name.get(ns["slave"], {})
        ok = ("UP" in lo.get("flags", ()) and "UP" in slave.get("flags", ())
              and slave.get("linkinfo", {}).get("info_kind") == "ipvlan"
              and any("%s/%s" % (a["local"], a["prefixlen"]) == ns["address"] for a in slave.get("addr_info", ()))
              and any(r.get("dst") == "default" and r.get("gateway") == ns["gateway"] for r in routes))
        if not ok:
            bad.append(ns["name"])
    return bad
phase = sys.argv[2]
t0 = time.perf_counter()
if phase == "first":
    lines = []
    for ns in spec["namespaces"]:
        lines.append("netns add %s" % ns["name"])
        lines.append("link add link %s name %s netns %s type ipvlan mode %s bridge"
                     % (spec["master"], ns["slave"], ns["name"], spec["mode"]))
    ip([], "\n".join(lines) + "\n")
    t1 = time.perf_counter()
    for ns in spec["namespaces"]:
        ip(["-n", ns["name"]], "link set dev lo up alias \"%s\"\nlink set dev %s up alias \"%s\"\naddress add %s dev %s\n"
           "route add default via %s dev %s\n" % (marker, ns["slave"], marker, ns["address"], ns["slave"],
                                                  ns["gateway"], ns["slave"]))
    t2 = time.perf_counter()
else:
    t1 = t2 = t0
bad = compare()
t3 = time.perf_counter()
print(json.dumps({"add": t1 - t0, "apply": t2 - t1, "read-compare": t3 - t2, "seconds": t3 - t0, "bad": bad}))
'''


def howto(count: int, master: str) -> tuple[dict, dict]:
    """(role variables, topology arguments) of N namespaces; the same state both ways."""
    role = nr.role_vars(count, master, purge=False)
    namespaces = []
    for entry in role["namespaces_list"]:
        gateway = entry.get("gateway", role["namespaces_gateway"])
        namespaces.append({"name": entry["name"], "ipvlans": [
            {"name": entry["slave"], "master": master, "mode": MODE, "addresses": entry["addresses"]}],
            "routes": [{"dst": "default", "gateway": gateway, "dev": entry["slave"]}]})
    return role, {"namespaces": namespaces}


class VmBench:
    def __init__(self, args, ansible: Ansible, checks: list, state: dict, vm: dict) -> None:
        self.args, self.ansible, self.checks = args, ansible, checks
        self.guest = nr.Guest(state, vm)
        self.host = vm["name"]
        self.master = vm["nics"][0]["ifname"]
        self.inventory = os.path.join(ansible.workdir, "vm-inventory.yml")
        vmlab.write_inventory(state, self.inventory)
        self.extra = ["-e", json.dumps({"ansible_python_interpreter": nr.WRAPPER})]

    def check(self, ok: bool, what: str) -> None:
        self.checks.append({"ok": bool(ok), "check": what})
        log(("ok:      " if ok else "PROBLEM: ") + what)

    def clean(self) -> None:
        names = [n for n in self.guest.netns_names() if re.fullmatch(r"bn\d+", n)]
        if names:
            self.guest.run(["ip", "-batch", "-"], stdin="".join(f"netns del {n}\n" for n in names))
        self.guest.python_runs()

    def playbook(self, tasks: list | None = None, roles: list | None = None, extra_vars: dict | None = None) -> dict:
        play = {"name": "bench", "hosts": self.host, "gather_facts": False}
        if roles:
            play["roles"] = roles
        else:
            play["tasks"] = tasks
        extra = list(self.extra)
        if extra_vars:
            path = os.path.join(self.ansible.workdir, f"vm-vars-{self.ansible.runs + 1:03d}.json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(extra_vars, fh)
            extra += ["-e", "@" + path]
        rec = self.ansible.playbook([play], self.inventory, extra)
        runs = self.guest.python_runs()
        rec["guest"] = sum(r["wall"] for r in runs)
        rec["module_runs"] = len(runs)
        rec["changed"] = sum(v.get("changed", 0) for v in rec["stats"].values())
        return rec

    def fixed(self, args: dict) -> float:
        """ansible-playbook with the topology task skipped: start-up, inventory, variables, the play."""
        rec = self.playbook([{"name": "skipped", "linuxnet.ipvlan.topology": {"namespaces": "{{ bench_topology }}"},
                              "when": False}], extra_vars={"bench_topology": args["namespaces"]})
        return rec["wall"]

    def topology(self, count: int, args: dict) -> dict:
        task = [{"name": "topology", "linuxnet.ipvlan.topology": {"namespaces": "{{ bench_topology }}"}}]
        out = {p: self.playbook(task, extra_vars={"bench_topology": args["namespaces"]}) for p in ("first", "no-change")}
        self.check(out["first"]["changed"] and not out["no-change"]["changed"],
                   f"VM N={count} topology: first run changed, no-change run did not")
        return out

    def role(self, count: int, role_vars: dict, label: str = "role") -> dict:
        roles = [{"role": "linuxnet.ipvlan.namespaces"}]
        out = {p: self.playbook(roles=roles, extra_vars=role_vars) for p in ("first", "no-change")}
        again = out["no-change"]
        self.check(not again["changed"] and again["module_runs"] == 1,
                   f"VM N={count} {label}, no-change run: changed={again['changed']}, "
                   f"{again['module_runs']} module run(s) (want 0 and 1)")
        return out

    def ip_batch(self, count: int, role_vars: dict) -> dict:
        spec = {"master": self.master, "mode": MODE, "namespaces": [
            {"name": e["name"], "slave": e["slave"], "address": e["addresses"][0],
             "gateway": e.get("gateway", role_vars["namespaces_gateway"])} for e in role_vars["namespaces_list"]]}
        out = {}
        for phase in ("first", "no-change"):
            out[phase] = json.loads(self.guest.run(["python3", "-c", IP_DRIVER, json.dumps(spec), phase],
                                                   timeout=1800).strip().splitlines()[-1])
            self.check(not out[phase]["bad"], f"VM N={count} ip -batch {phase}: ip -j reads the state back")
        return out

    def loop(self, count: int, args: dict) -> dict:
        item = "{{ item.name }}"
        slave = "{{ item.ipvlans[0].name }}"
        tasks = [
            {"name": "netns", "linuxnet.ipvlan.netns": {"name": item}},
            {"name": "ipvlan", "linuxnet.ipvlan.ipvlan": {"name": slave, "master": self.master, "mode": MODE,
                                                          "netns": item, "admin_state": "up"}},
            {"name": "link", "linuxnet.ipvlan.link": {"name": "lo", "netns": item, "state": "up"}},
            {"name": "address", "linuxnet.ipvlan.address": {"netns": item, "dev": slave,
                                                            "addresses": "{{ item.ipvlans[0].addresses }}"}},
            {"name": "route", "linuxnet.ipvlan.route": {"netns": item, "dst": "default", "dev": slave,
                                                        "gateway": "{{ item.routes[0].gateway }}"}},
        ]
        for task in tasks:
            task["loop"] = "{{ bench_topology }}"
        out = {p: self.playbook(tasks, extra_vars={"bench_topology": args["namespaces"]}) for p in ("first", "no-change")}
        want = count * len(LOOP_MODULES)
        self.check(out["first"]["changed"] and not out["no-change"]["changed"]
                   and out["no-change"]["module_runs"] == want,
                   f"VM N={count} modules in a loop: first run changed, no-change run did not, "
                   f"{out['no-change']['module_runs']} module runs (want {want})")
        return out

    def persistence(self, count: int, role_vars: dict) -> dict:
        on = self.role(count, dict(role_vars, namespaces_persist=True), "role, persistence on")
        unit = self.guest.run(["systemctl", "is-enabled", "linuxnet-ipvlan.service"], timeout=60).strip()
        self.check(unit == "enabled", f"VM N={count} role, persistence on: the unit is {unit}")
        off = self.role(count, dict(role_vars, namespaces_persist=False), "role, persistence off again")
        left = self.guest.run(["find", "/etc/systemd/system", "-name", "linuxnet-ipvlan.service"], timeout=60).split()
        self.check(not left, f"VM N={count} role, persistence off: unit file and links gone ({left})")
        return {"on": on, "off": off}


def rows_for(count: int, results: dict, fixed: float) -> list[dict]:
    rows = []
    ip = results["ip"]
    for phase in ("first", "no-change"):
        reference = ip[phase]["seconds"]
        for label, key in (("topology module", "topology"), ("role", "role"), ("modules in a loop", "loop")):
            if key not in results:
                continue
            rec = results[key][phase]
            extra = {}
            if key == "topology" and "loop" in results:
                extra["loop_ratio"] = (results["loop"][phase]["wall"] - fixed) / (rec["wall"] - fixed)
            rows.append(row("b", label, count, phase, rec["wall"] - fixed, reference, None,
                            detail=f"ansible-playbook {rec['wall']:.1f} - skipped task {fixed:.1f}; guest "
                            f"{rec['guest']:.1f} in {rec['module_runs']} module run(s)"
                            + (f"; loop / topology {extra['loop_ratio']:.1f}x" if extra else ""), **extra))
        if "persistence" in results:
            for state in ("on", "off"):
                rec = results["persistence"][state][phase]
                rows.append(row("b", f"role, persistence {state}", count, phase, rec["wall"] - fixed, reference,
                                None, detail=f"guest {rec['guest']:.1f} in {rec['module_runs']} "
                                f"module run(s)"))
        rows.append(row("b", "ip -batch", count, phase, reference, reference, None,
                        detail="in the guest: " + " ".join(f"{k} {ip[phase][k]:.2f}"
                                                           for k in ("add", "apply", "read-compare"))))
    return rows


def run(args, ansible: Ansible, checks: list, meta: dict) -> list[dict]:
    counts = [int(c) for c in args.vm_counts.split(",") if c.strip()]
    lab = f"bench-{os.getpid()}"
    rows: list[dict] = []
    vmlab.install_exit_signals()
    try:
        state = vmlab.lab_up(lab, vmlab.load_spec(None, ["vm1:bookworm:lan0"]))
        vm = state["vms"][0]
        meta["vm"] = f"bookworm, {vm.get('cpus', 1)} vCPU, {vm.get('memory', 1024)} MiB, {state['accel'].upper()}"
        bench = VmBench(args, ansible, checks, state, vm)
        bench.guest.install_wrapper()
        bench.clean()
        for count in counts:
            role_vars, topo = howto(count, bench.master)
            fixed = bench.fixed(topo)
            results = {}
            steps = [("topology", bench.topology, topo), ("role", bench.role, role_vars),
                     ("ip", bench.ip_batch, role_vars)]
            if count == counts[0]:
                steps += [("loop", bench.loop, topo), ("persistence", bench.persistence, role_vars)]
            for key, step, data in steps:
                bench.clean()
                log(f"VM N={count}: {key}")
                results[key] = step(count, data)
            bench.clean()
            rows += rows_for(count, results, fixed)
    except vmlab.VmlabError as exc:
        raise BenchError(str(exc)) from exc
    finally:
        vmlab.lab_down(lab)
    return rows
