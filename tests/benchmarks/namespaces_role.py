# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the linuxnet.ipvlan.namespaces role on one lab VM (stdlib only).

  python3 tests/benchmarks/namespaces_role.py [--counts 2,20,100] [--lab NAME [--vm VM]]
                                              [--image bookworm|trixie] [--update-readme]

For each count N it applies the role with N namespaces bn0..bnN-1 (slaves bv0.. on the lab NIC,
mode l2, one address each from the documentation prefixes, a default route via .1 of that
prefix) and times three ansible-playbook runs: the first run (creates everything), the
no-change run (must report changed=0 and run the topology module once), and the purge
(namespaces_list empty, namespaces_purge true).

Without --lab it boots a 1-VM lab (tests/vmlab/vmlab.py) and always tears it down; with --lab
it uses that running lab and leaves it up (the benchmark purges every namespace the collection
marked on the VM before it starts). Where the time goes:
  wall   ansible-playbook, process start to exit
  ctl    controller start-up: process start until the playbook starts (imports, inventory, collection)
  task   the topology task as the controller sees it (callback_plugins/linuxnet_bench.py):
         argument templating + SSH + the module run in the guest + result
  guest  the topology module's Python process in the guest (a wrapper interpreter in the guest
         times every Python process Ansible starts): interpreter start, AnsiballZ, imports, the work
  cpu    user+sys CPU of that process in the guest
  stat   the same for the role's other remote task (a stat), the cost of a trivial module
Raw figures and the ansible-playbook output of every run go to build/benchmarks/<run>/.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "vmlab"))

import vmlab  # noqa: E402  (tests/vmlab/vmlab.py)
import bench  # noqa: E402  (tests/benchmarks/bench.py)

README = os.path.join(HERE, "README.md")
README_BEGIN = "<!-- namespaces_role.py figures: begin -->"
README_END = "<!-- namespaces_role.py figures: end -->"
CALLBACK_DIR = os.path.join(HERE, "callback_plugins")
COLLECTION = os.path.join(REPO, "build", "collections", "ansible_collections", "linuxnet", "ipvlan")

# Documentation prefixes only; .1 of each is the gateway, 250 namespaces per prefix.
PREFIXES = ("198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24")
PER_PREFIX = 250

# Controller-side actions: they produce a task result but start no Python in the guest.
LOCAL_ACTIONS = {"validate_argument_spec", "set_fact", "debug", "assert", "meta", "fail",
                 "include_tasks", "import_tasks", "include_role", "import_role", "include_vars"}
TOPOLOGY = "linuxnet.ipvlan.topology"

PLAYBOOK = """---
# Written by tests/benchmarks/namespaces_role.py; the role variables come with -e @vars.json.
- name: Benchmark the linuxnet.ipvlan.namespaces role
  hosts: all
  gather_facts: false
  roles:
    - role: linuxnet.ipvlan.namespaces
"""

# The guest's "Python interpreter" during the benchmark: python3, timed. With pipelining the
# module arrives on stdin and passes straight through. bash builtins only after python3 exits,
# so nothing forks; `times` gives the user/sys CPU of the child.
WRAPPER = "/usr/local/libexec/linuxnet-bench-python3"
GUEST_LOG = "/run/linuxnet-bench.log"
WRAPPER_TEXT = f"""#!/bin/bash
# Installed by tests/benchmarks/namespaces_role.py (linuxnet.ipvlan): times every Python process
# Ansible starts in this guest; remove it freely.
start=$EPOCHREALTIME
/usr/bin/python3 "$@"
rc=$?
end=$EPOCHREALTIME
{{ echo "run $start $end $rc"; times; }} >>{GUEST_LOG}
exit "$rc"
"""


class BenchError(Exception):
    """A failure with a message meant for the user."""


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the role's variables

def role_vars(count: int, master: str, purge: bool) -> dict:
    if count > PER_PREFIX * len(PREFIXES):
        raise BenchError(f"at most {PER_PREFIX * len(PREFIXES)} namespaces (documentation prefixes only)")
    default_gw = str(ipaddress.ip_network(PREFIXES[0])[1])
    entries = []
    for i in range(count):
        net = ipaddress.ip_network(PREFIXES[i // PER_PREFIX])
        entry = {"name": f"bn{i}", "slave": f"bv{i}",
                 "addresses": [f"{net[2 + i % PER_PREFIX]}/{net.prefixlen}"]}
        if str(net[1]) != default_gw:
            entry["gateway"] = str(net[1])
        entries.append(entry)
    return {"namespaces_master": master, "namespaces_mode": "l2", "namespaces_gateway": default_gw,
            "namespaces_list": entries, "namespaces_purge": purge}


# ---------------------------------------------------------------- controller and guest

def ansible_playbook() -> str:
    for candidate in (os.path.join(REPO, ".venv", "bin", "ansible-playbook"),
                      os.path.join(os.path.dirname(sys.executable), "ansible-playbook")):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("ansible-playbook")
    if not found:
        raise BenchError("ansible-playbook not found: run `make setup`")
    return found


def ansible_version(tool: str) -> str:
    proc = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    first = (proc.stdout or "").splitlines()[:1]
    return first[0].strip() if first else "unknown"


class Guest:
    """SSH to the benchmark's VM (argv quoted for the remote shell, so it arrives as given)."""

    def __init__(self, state: dict, vm: dict):
        self.base = vmlab.ssh_base(state, vm)

    def run(self, argv: list[str], stdin: str | None = None, timeout: float = 120) -> str:
        proc = subprocess.run(self.base + [" ".join(shlex.quote(a) for a in argv)],  # noqa: S603
                              input=stdin if stdin is not None else "", capture_output=True, text=True,
                              timeout=timeout, check=False)
        if proc.returncode != 0:
            raise BenchError(f"ssh {' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
        return proc.stdout

    def install_wrapper(self) -> None:
        self.run(["sh", "-c", 'mkdir -p "$(dirname "$0")" && cat >"$0" && chmod 0755 "$0" && : >"$1"',
                  WRAPPER, GUEST_LOG], stdin=WRAPPER_TEXT)

    def remove_wrapper(self) -> None:
        self.run(["rm", "-f", WRAPPER, GUEST_LOG])

    def python_runs(self) -> list[dict]:
        """The wrapper's records since the last call (and empties the log)."""
        text = self.run(["sh", "-c", 'cat "$0" && : >"$0"', GUEST_LOG])
        lines = text.splitlines()
        runs = []
        for i, line in enumerate(lines):
            if not line.startswith("run "):
                continue
            start, end, rc = line.split()[1:4]
            cpu = None
            if i + 2 < len(lines):
                cpu = sum(_secs(v) for v in lines[i + 2].split())
            start_f, end_f = float(start.replace(",", ".")), float(end.replace(",", "."))
            runs.append({"wall": end_f - start_f, "cpu": cpu, "rc": int(rc)})
        return runs

    def netns_names(self) -> list[str]:
        return [line.split()[0] for line in self.run(["ip", "netns", "list"]).splitlines() if line.strip()]

    def uname(self) -> str:
        return self.run(["uname", "-r"]).strip()


def _secs(value: str) -> float:
    match = re.fullmatch(r"(\d+)m([\d.,]+)s", value.strip())
    return int(match.group(1)) * 60 + float(match.group(2).replace(",", ".")) if match else 0.0


def _short_action(action: str | None) -> str:
    return (action or "").rsplit(".", 1)[-1]


class Runner:
    def __init__(self, state: dict, vm: dict, workdir: str, timeout: float):
        self.state, self.vm, self.workdir, self.timeout = state, vm, workdir, timeout
        self.guest = Guest(state, vm)
        self.tool = ansible_playbook()
        self.inventory = os.path.join(workdir, "inventory.yml")
        vmlab.write_inventory(state, self.inventory)
        self.playbook = os.path.join(workdir, "playbook.yml")
        with open(self.playbook, "w", encoding="utf-8") as fh:
            fh.write(PLAYBOOK)
        self.master = vm["nics"][0]["ifname"] if vm.get("nics") else None
        if not self.master:
            raise BenchError(f"VM {vm['name']} has no lab NIC (give it a segment)")

    def env(self, out: str) -> dict:
        env = dict(os.environ)
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(REPO, "build", "collections"))
        env.setdefault("ANSIBLE_COLLECTIONS_SCAN_SYS_PATH", "false")
        env.update({
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACK_DIR,
            "ANSIBLE_CALLBACKS_ENABLED": "linuxnet_bench",
            "LINUXNET_BENCH_OUT": out,
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
        })
        return env

    def playbook_run(self, label: str, count: int, purge: bool, *, n: int = 0, kind: str = "") -> dict:
        """One ansible-playbook run with the role; its figures (n, kind: where the row goes in the table)."""
        vars_file = os.path.join(self.workdir, f"{label}.vars.json")
        out = os.path.join(self.workdir, f"{label}.callback.json")
        out_log = os.path.join(self.workdir, f"{label}.log")
        with open(vars_file, "w", encoding="utf-8") as fh:
            json.dump(role_vars(count, self.master, purge), fh, indent=1)
        argv = [self.tool, "-i", self.inventory, "--limit", self.vm["name"], self.playbook,
                "-e", f"@{vars_file}", "-e", json.dumps({"ansible_python_interpreter": WRAPPER})]
        log(f"{label}: ansible-playbook with {count} namespace(s){' and purge' if purge else ''} ...")
        with open(out_log, "w", encoding="utf-8") as fh:
            start = time.time()
            try:
                proc = subprocess.run(argv, env=self.env(out), cwd=REPO, stdout=fh,  # noqa: S603
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      timeout=self.timeout, check=False)
            except subprocess.TimeoutExpired as exc:
                raise BenchError(f"{label}: ansible-playbook took more than {self.timeout:.0f}s (log: {out_log})") from exc
            end = time.time()
        if proc.returncode != 0:
            with open(out_log, encoding="utf-8") as fh:
                tail = "".join(fh.readlines()[-40:])
            raise BenchError(f"{label}: ansible-playbook failed ({proc.returncode}), log {out_log}:\n{tail}")
        with open(out, encoding="utf-8") as fh:
            cb = json.load(fh)
        guest_runs = self.guest.python_runs()
        return dict(figures(start, end, cb, guest_runs), label=label, n=n, kind=kind or label)


def figures(start: float, end: float, cb: dict, guest_runs: list) -> dict:
    results = cb["results"]
    remote = [r for r in results if r["status"] in ("ok", "failed")
              and _short_action(r["action"]) not in LOCAL_ACTIONS]
    topo = [r for r in results if r["action"] == TOPOLOGY and r["status"] != "skipped"]
    row = {
        "wall": end - start,
        "ctl": (cb["playbook_start"] - start) if cb.get("playbook_start") else None,
        "tasks": len(results), "skipped": sum(r["status"] == "skipped" for r in results),
        "remote_results": [_short_action(r["action"]) for r in remote],
        "guest_runs": len(guest_runs),
        "topology_runs": len(topo),
        "changed": sum(v.get("changed", 0) for v in cb["stats"].values()),
        "failures": sum(v.get("failures", 0) + v.get("unreachable", 0) for v in cb["stats"].values()),
        "task": None, "actions": None, "guest": None, "cpu": None, "stat": None,
        "mapped": len(remote) == len(guest_runs),
    }
    if topo:
        row["task"] = topo[0]["end"] - topo[0]["start"] if topo[0]["start"] else None
        row["actions"] = topo[0].get("actions")
        row["topology_changed"] = topo[0]["changed"]
    if row["mapped"]:
        for res, run in zip(remote, guest_runs):
            if res["action"] == TOPOLOGY:
                row["guest"], row["cpu"] = run["wall"], run["cpu"]
            elif _short_action(res["action"]) == "stat":
                row["stat"] = run["wall"]
    return row


# ---------------------------------------------------------------- the benchmark

def benchmark(runner: Runner, counts: list[int], budget: float, t0: float,
              problems: list[str], notes: list[str], probes: list[str]) -> list[dict]:
    rows: list[dict] = []

    def check(ok: bool, what: str) -> None:
        log(("ok:      " if ok else "PROBLEM: ") + what)
        if not ok:
            problems.append(what)

    runner.guest.install_wrapper()
    # A clean start (and a warm-up: SSH control master, guest page cache), not counted.
    warm = runner.playbook_run("warmup-purge", 0, True, kind="warm-up purge")
    check(not [n for n in runner.guest.netns_names() if re.fullmatch(r"bn\d+", n)],
          "warm-up purge: no bn* namespace left")
    rows.append(warm)
    # What any Python in the guest costs, through the same wrapper.
    for what, code in (("python3 -c pass", "pass"), ("import pyroute2's IPRoute", "from pyroute2 import IPRoute")):
        runner.guest.run([WRAPPER, "-c", code])
        run = runner.guest.python_runs()[-1]
        probes.append(f"{what}: {run['wall']:.1f}s (CPU {_f(run['cpu'])}s)")
    log("guest Python: " + "; ".join(probes))
    for count in counts:
        if time.monotonic() - t0 > budget:
            notes.append(f"N={count} not run: the time budget ({budget:.0f}s) was spent")
            log(notes[-1])
            continue
        first = runner.playbook_run(f"n{count}-first", count, False, n=count, kind="first")
        names = [n for n in runner.guest.netns_names() if re.fullmatch(r"bn\d+", n)]
        check(len(names) == count, f"N={count} first run: {len(names)} bn* namespaces in the guest (want {count})")
        check(first["topology_runs"] == 1, f"N={count} first run: topology ran {first['topology_runs']} time(s)")
        check(count == 0 or first["changed"] > 0, f"N={count} first run: changed={first['changed']}")
        again = runner.playbook_run(f"n{count}-nochange", count, False, n=count, kind="no-change")
        check(again["changed"] == 0, f"N={count} no-change run: changed={again['changed']} (want 0)")
        check(again["topology_runs"] == 1,
              f"N={count} no-change run: topology task results = {again['topology_runs']} (want 1)")
        check(again["mapped"] and again["guest_runs"] == len(again["remote_results"]),
              f"N={count} no-change run: {again['guest_runs']} Python process(es) in the guest for "
              f"{len(again['remote_results'])} remote task(s) ({', '.join(again['remote_results'])})")
        check(again["remote_results"].count("topology") == 1,
              f"N={count} no-change run: one topology module run among the guest's Python processes")
        purge = runner.playbook_run(f"n{count}-purge", 0, True, n=count, kind="purge")
        names = [n for n in runner.guest.netns_names() if re.fullmatch(r"bn\d+", n)]
        check(not names, f"N={count} purge: {len(names)} bn* namespaces left (want 0)")
        rows += [first, again, purge]
    return rows


# ---------------------------------------------------------------- report

def _f(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio(a, b) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}"


def by_n(rows: list[dict]) -> dict:
    out: dict[int, dict] = {}
    for row in rows:
        if row["n"]:
            out.setdefault(row["n"], {})[row["kind"]] = row
    return out


def report(rows: list[dict], meta: dict) -> str:
    """The figures as Markdown (printed, and written to the README with --update-readme)."""
    lines = [
        f"Run {meta['date']}: host {meta['host']}, guest {meta['guest']}; {meta['ansible']}.",
        f"Load average before/after: {meta['load_before']} / {meta['load_after']}; "
        f"other qemu processes running at the start: {meta['other_qemu']}. Total {meta['total']:.0f}s.",
        "Guest Python alone: " + ("; ".join(meta["probes"]) or "not measured") + ".",
        "",
        "Seconds. wall: ansible-playbook; ctl: controller start-up before the play; task: the topology task "
        "(controller view); guest/cpu: the topology module's Python process in the guest (wall / CPU); "
        "stat: the role's trivial stat module in the guest; runs: Python processes in the guest; "
        "actions: plan lines.",
        "",
        "| N | run | wall | ctl | task | guest | cpu | stat | runs | topology | changed | actions |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row['n']} | {row['kind']} | {_f(row['wall'])} | {_f(row['ctl'])} | {_f(row['task'])} | "
                     f"{_f(row['guest'])} | {_f(row['cpu'])} | {_f(row['stat'])} | {row['guest_runs']} | "
                     f"{row['topology_runs']} | {row['changed']} | {'-' if row['actions'] is None else row['actions']} |")
    table = by_n(rows)
    counts = sorted(table)
    lines += ["", "| N | first/N: wall, guest | no-change/first: wall, task, guest | purge: wall, guest |",
              "|---:|---|---|---|"]
    for n in counts:
        first, again, purge = (table[n].get(k) for k in ("first", "no-change", "purge"))
        if not first or not again:
            continue
        lines.append(f"| {n} | {_f(first['wall'] / n, 2)}, {_f(first['guest'] / n if first['guest'] else None, 2)} | "
                     f"{_ratio(again['wall'], first['wall'])}, {_ratio(again['task'], first['task'])}, "
                     f"{_ratio(again['guest'], first['guest'])} | "
                     f"{_f(purge['wall'] if purge else None)}, {_f(purge['guest'] if purge else None)} |")
    if len(counts) > 1:
        lines += ["", "| scaling | first: wall, task, guest | no-change: wall, task, guest | "
                  "marginal s/namespace, first: task, guest | marginal s/namespace, no-change: task, guest |",
                  "|---|---|---|---|---|"]
        for a, b in zip(counts, counts[1:]):
            fa, fb = table[a].get("first"), table[b].get("first")
            na, nb = table[a].get("no-change"), table[b].get("no-change")
            if not (fa and fb and na and nb):
                continue

            def marginal(x, y):
                return None if x is None or y is None else (y - x) / (b - a)
            lines.append(
                f"| {b}/{a} | {_ratio(fb['wall'], fa['wall'])}, {_ratio(fb['task'], fa['task'])}, "
                f"{_ratio(fb['guest'], fa['guest'])} | {_ratio(nb['wall'], na['wall'])}, "
                f"{_ratio(nb['task'], na['task'])}, {_ratio(nb['guest'], na['guest'])} | "
                f"{_f(marginal(fa['task'], fb['task']), 3)}, {_f(marginal(fa['guest'], fb['guest']), 3)} | "
                f"{_f(marginal(na['task'], nb['task']), 3)}, {_f(marginal(na['guest'], nb['guest']), 3)} |")
    if meta["notes"]:
        lines += ["", "Notes: " + "; ".join(meta["notes"])]
    if meta["problems"]:
        lines += ["", "Problems: " + "; ".join(meta["problems"])]
    return "\n".join(lines)


def update_readme(block: str) -> None:
    bench.update_readme(README, block, README_BEGIN, README_END)


def qemu_pids() -> dict[int, list[str]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            argv = vmlab.proc_cmdline(int(entry))
            if argv and os.path.basename(argv[0]).startswith("qemu-system"):
                found[int(entry)] = argv
    return found


def host_description(accel: str) -> str:
    return f"{os.cpu_count()} cores ({bench.cpu_model()}), {platform.system()} {platform.release()}, {accel.upper()}"


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="2,20,100", help="namespace counts, comma-separated (default 2,20,100)")
    parser.add_argument("--lab", help="use this running lab (left up) instead of booting one")
    parser.add_argument("--vm", help="VM of --lab to use (default: its first)")
    parser.add_argument("--image", default="bookworm", choices=sorted(vmlab.IMAGES), help="image of a booted lab")
    parser.add_argument("--budget", type=float, default=1200,
                        help="seconds after which no further count is started (default 1200)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per ansible-playbook run (default 900)")
    parser.add_argument("--update-readme", action="store_true", help=f"write the figures to {os.path.relpath(README, REPO)}")
    args = parser.parse_args(argv)
    try:
        counts = [int(c) for c in args.counts.split(",") if c.strip()]
    except ValueError:
        parser.error("--counts: comma-separated integers")
    if not counts or min(counts) < 1:
        parser.error("--counts: at least one count, each >= 1")
    if not os.path.isdir(COLLECTION) and "ANSIBLE_COLLECTIONS_PATH" not in os.environ:
        print(f"bench: {COLLECTION} missing: run `make collection`", file=sys.stderr)
        return 2

    vmlab.install_exit_signals()
    t0 = time.monotonic()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    workdir = os.path.join(REPO, "build", "benchmarks", f"namespaces-{stamp}-{os.getpid()}")
    os.makedirs(workdir)
    booted = args.lab is None
    lab = args.lab or f"bench-{os.getpid()}"
    before = set(qemu_pids())
    meta = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "load_before": load(), "problems": [], "notes": [], "probes": [],
            "other_qemu": len(before)}
    rows: list[dict] = []
    rc = 0
    runner = None
    try:
        if booted:
            state = vmlab.lab_up(lab, vmlab.load_spec(None, [f"vm1:{args.image}:lan0"]))
        else:
            state = vmlab.require_state(lab)
        vm = next((v for v in state["vms"] if v["name"] == (args.vm or state["vms"][0]["name"])), None)
        if vm is None:
            raise BenchError(f"lab {lab} has no VM {args.vm}")
        runner = Runner(state, vm, workdir, args.timeout)
        meta["host"] = host_description(state.get("accel", "?"))
        meta["guest"] = f"{vm['image']} ({runner.guest.uname()}), {vm.get('cpus', 1)} vCPU, {vm.get('memory', 1024)} MiB"
        meta["ansible"] = ansible_version(runner.tool)
        rows = benchmark(runner, counts, args.budget, t0, meta["problems"], meta["notes"], meta["probes"])
    except (BenchError, vmlab.VmlabError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        meta["problems"].append(str(exc).splitlines()[0])
        rc = 1
    finally:
        if booted:
            vmlab.lab_down(lab)
            left = [pid for pid, argv in qemu_pids().items() if any(f"/labs/{lab}/" in a for a in argv)]
            if left:
                print(f"bench: qemu processes of lab {lab} still running: {left}", file=sys.stderr)
                rc = 1
        elif runner is not None:
            try:
                runner.guest.remove_wrapper()
            except (BenchError, subprocess.SubprocessError) as exc:
                print(f"bench: could not remove {WRAPPER} from the guest: {exc}", file=sys.stderr)
    meta["load_after"] = load()
    meta["total"] = time.monotonic() - t0
    with open(os.path.join(workdir, "figures.json"), "w", encoding="utf-8") as fh:
        json.dump({"meta": meta, "rows": rows}, fh, indent=1)
    if rows and "host" in meta:
        block = report(rows, meta)
        print(block)
        if args.update_readme and rc == 0:
            update_readme(block)
    if meta["problems"]:
        rc = rc or 1
    print(f"bench: raw figures and logs in {os.path.relpath(workdir, REPO)}", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
