# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""linuxnet.ipvlan benchmark: the engine, the modules and the role against ip -batch (`make bench`).

  python3 tests/benchmarks/bench.py [--parts host|all] [--json] [--reps 3] [--counts 100,1000]
                                    [--vm-counts 20,100,200] [--update-readme]

Prints one table (with --json the same rows as JSON) and exits non-zero when a check fails.
Parts (see tests/benchmarks/README.md for how each figure is taken):
  host  (a) N namespaces on this host's kernel, each with lo up (and its 127.0.0.1/8), the
            collection's marker on lo and a route 203.0.113.0/24 dev lo: the engine in-process
            (first run, no-change run), the topology module through ansible-playbook (the
            playbook's fixed cost taken off) and an `ip -batch` script with its read-and-compare
            through `ip -j`; ratios to ip -batch.
        (c) a no-change task of each module against ansible.builtin.ping and .stat, and the
            imports of each module (python -X importtime), under pyroute2 0.9 and 0.7.2.
        (d) peak RSS of the module process (and of the in-process engine) at the largest N.
        and the namespaces role's one-module-run check on this host (persistence off).
  vm    (b) in a lab VM with ipvlan (tests/vmlab): the HOWTO per namespace by the topology module,
            the role and ip -batch; the fine-grained modules in a loop (see vm_part.py).
Only namespaces named lnb<run id><index> are created, and they are always removed (also on
a failure, Ctrl-C or SIGTERM); leftovers of benchmark runs that died are removed at the start.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import re
import resource
import secrets
import signal
import statistics
import string
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
COLLECTIONS = os.path.join(REPO, "build", "collections")
COLLECTION_LINK = os.path.join(COLLECTIONS, "ansible_collections", "linuxnet", "ipvlan")
CALLBACK_DIR = os.path.join(HERE, "callback_plugins")
ENGINE_RUN = os.path.join(HERE, "engine_run.py")
README = os.path.join(REPO, "README.md")
BENCH_README = os.path.join(HERE, "README.md")
README_BEGIN = "<!-- bench.py table: begin -->"
README_END = "<!-- bench.py table: end -->"

SYSTEM_PYTHON = "/usr/bin/python3"          # Debian's python3-pyroute2 (0.7.2 on bookworm)
MARKER = "managed-by=linuxnet.ipvlan owner=default"   # what the topology module writes (owner default)
ROUTE = "203.0.113.0/24"                    # documentation prefix, on lo: never leaves the namespace
PREFIX = "lnb"
REGISTRY = "/run/linuxnet-ipvlan-bench"     # run id -> pid of live benchmark runs
MODULES = ("netns", "link", "address", "route", "ipvlan", "facts", "info", "topology")


class BenchError(Exception):
    """A failure with a message meant for the user."""


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run(argv: list[str], stdin: str | None = None, timeout: float = 900, env: dict | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, input=stdin if stdin is not None else "", capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)
    if check and proc.returncode != 0:
        raise BenchError(f"{' '.join(argv[:4])} ... failed ({proc.returncode}): "
                         f"{(proc.stderr or proc.stdout).strip()[-1500:]}")
    return proc


def children_cpu() -> float:
    """User + system CPU of the child processes that ended so far (with their own children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Stopwatch:
    """Wall and child CPU seconds of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), children_cpu()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, children_cpu() - self.cpu


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------- namespaces of this run

class Namespaces:
    """Names lnb<id><index>; the id is 3 letters, so one run's prefix never covers another's."""

    def __init__(self) -> None:
        self.run_id = "".join(secrets.choice(string.ascii_lowercase) for _repeat in range(3))
        self.prefix = PREFIX + self.run_id

    def names(self, count: int, offset: int = 0) -> list[str]:
        return [f"{self.prefix}{i}" for i in range(offset, offset + count)]

    def register(self) -> None:
        os.makedirs(REGISTRY, exist_ok=True)
        removed = self._remove_stale()
        if removed:
            log(f"removed {removed} namespace(s) left by benchmark runs that died")
        with open(os.path.join(REGISTRY, self.run_id), "w", encoding="utf-8") as fh:
            fh.write(str(os.getpid()))

    def unregister(self) -> None:
        try:
            os.unlink(os.path.join(REGISTRY, self.run_id))
        except FileNotFoundError:
            pass

    @staticmethod
    def existing(prefix: str) -> list[str]:
        try:
            entries = os.listdir("/run/netns")
        except FileNotFoundError:
            return []
        return sorted(e for e in entries if re.fullmatch(re.escape(prefix) + r"[a-z]{0,3}\d+", e))

    def _remove_stale(self) -> int:
        live = set()
        for entry in os.listdir(REGISTRY):
            try:
                with open(os.path.join(REGISTRY, entry), encoding="utf-8") as fh:
                    os.kill(int(fh.read().strip()), 0)
                live.add(entry)
            except (OSError, ValueError):
                os.unlink(os.path.join(REGISTRY, entry))
        stale = [n for n in self.existing(PREFIX) if n[len(PREFIX):len(PREFIX) + 3] not in live]
        delete_netns(stale)
        return len(stale)

    def clean(self) -> None:
        """Remove every namespace of this run."""
        delete_netns(self.existing(self.prefix))
        left = self.existing(self.prefix)
        if left:
            raise BenchError(f"could not remove {len(left)} benchmark namespace(s): {left[:5]}")


def delete_netns(names: list[str], settle: float = 20) -> None:
    """Remove the namespaces, and wait (up to SETTLE seconds) until the kernel has freed them.

    The kernel frees a namespace in a work queue after the last reference goes: a thousand
    namespaces keep a CPU busy for seconds, which must not land on the next measurement.
    """
    if not names:
        return
    before = kernel_netns()
    run(["ip", "-batch", "-"], "".join(f"netns del {n}\n" for n in names), check=False)
    deadline = time.monotonic() + settle
    while before is not None and time.monotonic() < deadline:
        alive = kernel_netns()
        if alive is None or alive <= before - len(names) + 10:  # + a few of other users of this host
            break
        time.sleep(0.1)


HOST_LOCK = "/run/linuxnet-ipvlan.lock"   # the modules' host lock (plugins/module_utils/_session.py)


def wait_for_host_lock(timeout: float = 900) -> float:
    """Wait until no other run of the collection's modules holds the host lock; the seconds waited.

    A module run waits for that lock before it reads: another user of this host (a test
    session, a play) would otherwise land in the figures as waiting time.
    """
    start = time.monotonic()
    try:
        fd = os.open(HOST_LOCK, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return 0.0
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                break
            except BlockingIOError:
                if time.monotonic() - start > timeout:
                    raise BenchError(f"{HOST_LOCK} held by another process for {timeout:.0f} s")
                time.sleep(0.2)
    finally:
        os.close(fd)
    waited = time.monotonic() - start
    if waited > 1:
        log(f"waited {waited:.0f} s for another user of this host to release {HOST_LOCK}")
    return waited


def kernel_netns() -> int | None:
    """Network namespaces the kernel holds, those being freed included (the net_namespace slab)."""
    try:
        with open("/proc/slabinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("net_namespace "):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# ---------------------------------------------------------------- the state, three ways

def topology_args(names: list[str]) -> dict:
    """The topology module's arguments for the host state (lo is up with its marker by default)."""
    return {"namespaces": [{"name": n, "routes": [{"dst": ROUTE, "dev": "lo"}]} for n in names]}


def ip_apply(names: list[str]) -> tuple[dict, float]:
    """The state by ip: one batch of `netns add`, then one `ip -n NS -batch` per namespace.

    Returns the wall seconds of both steps and the CPU seconds of all.
    """
    with Stopwatch() as add:
        run(["ip", "-batch", "-"], "".join(f"netns add {n}\n" for n in names))
    script = f'link set dev lo up alias "{MARKER}"\nroute add {ROUTE} dev lo\n'  # ip's batch lines take quotes
    with Stopwatch() as apply:
        for name in names:
            run(["ip", "-n", name, "-batch", "-"], script)
    return {"netns add": add.wall, "apply": apply.wall}, add.cpu + apply.cpu


def _json_stream(text: str) -> list:
    """`ip -j -batch` prints one JSON document per command."""
    decoder, docs, pos = json.JSONDecoder(), [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return docs
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)


def ip_read_compare(names: list[str]) -> list[str]:
    """Read each namespace with `ip -j` (one batch per namespace) and list what differs from the state."""
    problems = []
    present = set(Namespaces.existing(names[0][:len(PREFIX) + 3])) if names else set()
    for name in names:
        if name not in present:
            problems.append(f"{name}: missing")
            continue
        links, routes = _json_stream(run(["ip", "-j", "-d", "-n", name, "-batch", "-"],
                                         "address show dev lo\nroute show table main\n").stdout)
        lo = links[0] if links else {}
        if "UP" not in lo.get("flags", ()) or lo.get("ifalias") != MARKER:
            problems.append(f"{name}: lo is not up with the marker")
        if not any(a.get("local") == "127.0.0.1" and a.get("prefixlen") == 8 for a in lo.get("addr_info", ())):
            problems.append(f"{name}: lo has no 127.0.0.1/8")
        if not any(r.get("dst") == ROUTE and r.get("dev") == "lo" for r in routes):
            problems.append(f"{name}: no route {ROUTE} dev lo")
    return problems


def engine_run(python: str, args_file: str, env: dict) -> dict:
    proc = run([python, ENGINE_RUN, COLLECTIONS, args_file], env=env, check=False)
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as exc:
        raise BenchError(f"engine_run.py failed: {proc.stderr.strip()[-1500:]}") from exc
    if report.get("failed"):
        raise BenchError(f"engine_run.py: the module failed: {report.get('msg')}")
    return report


# ---------------------------------------------------------------- ansible-playbook on this host

class Ansible:
    """ansible-playbook against this host (connection local), with the benchmark's callback."""

    def __init__(self, venv: str, workdir: str) -> None:
        self.playbook_tool = os.path.join(venv, "bin", "ansible-playbook")
        self.python = os.path.join(venv, "bin", "python")
        if not os.access(self.playbook_tool, os.X_OK):
            raise BenchError(f"{self.playbook_tool} not found: run `make setup`")
        self.workdir = workdir
        self.cfg = os.path.join(workdir, "ansible.cfg")
        with open(self.cfg, "w", encoding="utf-8") as fh:
            fh.write("")
        self.runs = 0

    def inventory(self, hosts: dict[str, str]) -> str:
        path = os.path.join(self.workdir, f"inventory-{'-'.join(hosts)}.json")
        inv = {"all": {"hosts": {name: {"ansible_connection": "local", "ansible_python_interpreter": python}
                                 for name, python in hosts.items()}}}
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(inv, fh)
        return path

    def env(self, out: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update({
            "ANSIBLE_CONFIG": self.cfg,
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACK_DIR,
            "ANSIBLE_CALLBACKS_ENABLED": "linuxnet_bench",
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.workdir, "local-tmp"),
            "ANSIBLE_REMOTE_TMP": os.path.join(self.workdir, "remote-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_FORKS": "1",
            "LINUXNET_BENCH_OUT": out,
        })
        return env

    def playbook(self, plays: list, inventory: str, extra: list[str] | None = None) -> dict:
        """Run the plays; returns wall seconds and the callback's record (results, stats)."""
        self.runs += 1
        stem = os.path.join(self.workdir, f"run{self.runs:03d}")
        with open(stem + ".yml", "w", encoding="utf-8") as fh:
            json.dump(plays, fh, indent=1)
        argv = [self.playbook_tool, "-i", inventory, stem + ".yml"] + (extra or [])
        with Stopwatch() as clock:
            proc = run(argv, env=self.env(stem + ".json"), check=False)
        with open(stem + ".log", "w", encoding="utf-8") as fh:
            fh.write(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
            raise BenchError(f"ansible-playbook failed ({proc.returncode}), log {stem}.log:\n{tail}")
        with open(stem + ".json", encoding="utf-8") as fh:
            record = json.load(fh)
        return {"wall": clock.wall, "cpu": clock.cpu, "results": record["results"], "stats": record["stats"]}


def task_seconds(result: dict) -> float | None:
    return result["end"] - result["start"] if result.get("start") else None


class PythonLog:
    """A wrapper interpreter that logs each Python process Ansible starts: its peak RSS and wall time."""

    def __init__(self, python: str, workdir: str) -> None:
        self.path = os.path.join(workdir, "python-runs.log")
        self.wrapper = os.path.join(workdir, "python-wrapper")
        with open(self.wrapper, "w", encoding="utf-8") as fh:
            fh.write(f"#!/bin/bash\nexec /usr/bin/time -a -o {self.path} -f 'run %M %e' {python} \"$@\"\n")
        os.chmod(self.wrapper, 0o755)
        self.take()

    def take(self) -> list[dict]:
        """The processes since the last call: [{rss_mb, wall}]."""
        try:
            with open(self.path, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            lines = []
        with open(self.path, "w", encoding="utf-8"):
            pass
        runs = []
        for line in lines:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "run":
                runs.append({"rss_mb": int(parts[1]) / 1024.0, "wall": float(parts[2])})
        return runs


# ---------------------------------------------------------------- (a) and (d): the host kernel

class HostPart:
    def __init__(self, args, ns: Namespaces, ansible: Ansible, workdir: str, checks: list) -> None:
        self.args, self.ns, self.ansible, self.workdir, self.checks = args, ns, ansible, workdir, checks
        self.inventory = ansible.inventory({"bench": ansible.python})
        # The engine under both pyroute2 versions; /usr/bin/python3 borrows the venv's ansible package.
        self.engines = {"engine": (ansible.python, dict(os.environ)),
                        "engine, pyroute2 0.7.2": (SYSTEM_PYTHON, ansible_only_env(ansible, workdir))}

    def check(self, ok: bool, what: str) -> None:
        self.checks.append({"ok": bool(ok), "check": what})
        log(("ok:      " if ok else "PROBLEM: ") + what)

    def args_file(self, count: int) -> str:
        path = os.path.join(self.workdir, f"topology-{count}.json")
        if not os.path.exists(path):
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(topology_args(self.ns.names(count)), fh)
        return path

    def vars_file(self, count: int) -> str:
        path = os.path.join(self.workdir, f"vars-{count}.json")
        if not os.path.exists(path):
            with open(path, "w", encoding="utf-8") as fh:
                json.dump({"bench_topology": topology_args(self.ns.names(count))["namespaces"]}, fh)
        return path

    # --- one repetition of each approach: figures of the first and the no-change run

    def engine(self, label: str, count: int, verify: bool) -> dict:
        python, env = self.engines[label]
        args = self.args_file(count)
        first = engine_run(python, args, env)
        if verify:
            self.verify_state(count, f"{label} first run")
        again = engine_run(python, args, env)
        self.check(first["changed"] and not again["changed"],
                   f"N={count} {label}: first run changed ({first['actions']} actions), no-change run did not"
                   + (f" (it planned {again['actions']}: {again['first_actions']})" if again["changed"] else ""))
        return {"first": first, "no-change": again}

    def module(self, count: int, verify: bool, plog: PythonLog | None = None) -> dict:
        play = {"name": "topology", "hosts": "bench", "gather_facts": False, "tasks": [
            {"name": "topology", "linuxnet.ipvlan.topology": {"namespaces": "{{ bench_topology }}"},
             "when": "not (bench_skip | bool)"}]}
        extra = ["-e", "@" + self.vars_file(count)]
        if plog:
            extra += ["-e", json.dumps({"ansible_python_interpreter": plog.wrapper})]
        out = {}
        for phase in ("first", "no-change"):
            rec = self.ansible.playbook([play], self.inventory, extra + ["-e", "bench_skip=false"])
            res = rec["results"][0]
            out[phase] = {"wall": rec["wall"], "cpu": rec["cpu"], "task": task_seconds(res), "changed": res["changed"],
                          "status": res["status"], "actions": res.get("actions")}
            if plog:
                runs = plog.take()
                out[phase]["rss_mb"] = max((r["rss_mb"] for r in runs), default=None)
            if verify and phase == "first":
                self.verify_state(count, "topology module first run")
        fixed = self.ansible.playbook([play], self.inventory, extra + ["-e", "bench_skip=true"])
        out["fixed"], out["fixed_cpu"] = fixed["wall"], fixed["cpu"]
        self.check(out["first"]["changed"] and not out["no-change"]["changed"]
                   and out["first"]["status"] == out["no-change"]["status"] == "ok",
                   f"N={count} topology module: first run changed, no-change run did not")
        return out

    def ip_batch(self, count: int) -> dict:
        names = self.ns.names(count)
        stages, cpu = ip_apply(names)
        with Stopwatch() as read:
            problems = ip_read_compare(names)
        stages["read-compare"] = read.wall
        with Stopwatch() as again:
            still = ip_read_compare(names)
        self.check(not problems and not still, f"N={count} ip -batch: the state read back as applied"
                   + (f" ({problems[:3]})" if problems else ""))
        return {"first": {"seconds": sum(stages.values()), "cpu": cpu + read.cpu, "stages": stages},
                "no-change": {"seconds": again.wall, "cpu": again.cpu, "stages": {"read-compare": again.wall}}}

    def verify_state(self, count: int, what: str) -> None:
        problems = ip_read_compare(self.ns.names(count))
        self.check(not problems, f"N={count} {what}: ip -j reads the declared state"
                   + (f" ({len(problems)} problems: {problems[:3]})" if problems else ""))

    # --- all repetitions, alternating

    def measure(self, count: int) -> list[dict]:
        approaches = list(self.engines) + ["module", "ip"]
        samples: dict[str, list] = {a: [] for a in approaches}
        for rep in range(self.args.reps):
            shift = rep % len(approaches)
            for approach in approaches[shift:] + approaches[:shift]:
                self.ns.clean()
                wait_for_host_lock()
                log(f"N={count} repetition {rep + 1}/{self.args.reps}: {approach}")
                if approach in self.engines:
                    samples[approach].append(self.engine(approach, count, verify=rep == 0))
                elif approach == "module":
                    samples[approach].append(self.module(count, verify=rep == 0))
                else:
                    samples[approach].append(self.ip_batch(count))
        self.ns.clean()
        return self.rows(count, samples)

    def rows(self, count: int, samples: dict) -> list[dict]:
        rows = []
        for phase in ("first", "no-change"):
            ip = [s[phase] for s in samples["ip"]]
            ip_seconds = median([s["seconds"] for s in ip])
            for label in self.engines:
                eng = [s[phase] for s in samples[label]]
                stages = {k: median([s["stages"].get(k, 0.0) for s in eng])
                          for k in ("read", "plan", "apply", "after", "other")}
                rows.append(row("a", label, count, phase, median([s["seconds"] for s in eng]), ip_seconds,
                                max(s["peak_rss_mb"] for s in eng), cpu=median([s["cpu"] for s in eng]),
                                detail=" ".join(f"{k} {v:.2f}" for k, v in stages.items() if v)
                                + f"; module main() {median([s['module'] for s in eng]):.2f}",
                                stages=stages, module=median([s["module"] for s in eng])))
            mod = samples["module"]
            fixed = median([s["fixed"] for s in mod])
            wall = median([s[phase]["wall"] for s in mod])
            task = median([s[phase]["task"] for s in mod])
            cpu = median([s[phase]["cpu"] - s["fixed_cpu"] for s in mod])
            rows.append(row("a", "topology module", count, phase, wall - fixed, ip_seconds, None, cpu=cpu,
                            detail=f"ansible-playbook {wall:.2f} - skipped task {fixed:.2f}; task {task:.2f}",
                            wall=wall, fixed=fixed, task=task))
            ip_stages = {k: median([s["stages"][k] for s in ip]) for k in ip[0]["stages"]}
            rows.append(row("a", "ip -batch", count, phase, ip_seconds, ip_seconds, None,
                            cpu=median([s["cpu"] for s in ip]),
                            detail=" ".join(f"{k} {v:.2f}" for k, v in ip_stages.items()), stages=ip_stages))
        return rows

    def rss(self, count: int) -> list[dict]:
        """(d): the module process through ansible-playbook, under /usr/bin/time."""
        self.ns.clean()
        plog = PythonLog(self.ansible.python, self.workdir)
        out = self.module(count, verify=False, plog=plog)
        self.ns.clean()
        return [row("d", "topology module", count, phase, None, None, out[phase]["rss_mb"],
                    detail="peak RSS of the module's Python process (GNU time)") for phase in ("first", "no-change")]

    def role_one_run(self) -> None:
        """The namespaces role on this host (no ipvlan here: namespaces without a slave), persistence off."""
        plog = PythonLog(self.ansible.python, self.workdir)
        names = self.ns.names(3, offset=5000)
        play = {"name": "role", "hosts": "bench", "gather_facts": False, "roles": [{
            "role": "linuxnet.ipvlan.namespaces", "vars": {
                "namespaces_gateway": None, "namespaces_persist": False,
                "namespaces_list": [{"name": n, "routes": [{"dst": ROUTE, "dev": "lo"}]} for n in names]}}]}
        extra = ["-e", json.dumps({"ansible_python_interpreter": plog.wrapper})]
        try:
            for phase in ("first", "no-change"):
                rec = self.ansible.playbook([play], self.inventory, extra)
                runs = plog.take()
                changed = sum(v.get("changed", 0) for v in rec["stats"].values())
                self.check(len(runs) == 1, f"role on this host, {phase} run: {len(runs)} module run(s) (want 1)")
                if phase == "no-change":
                    self.check(changed == 0, f"role on this host, no-change run: changed={changed} (want 0)")
        finally:
            delete_netns(names)


def row(part: str, approach: str, n: int, phase: str, seconds, reference, rss, *, cpu=None, detail: str = "",
        **extra) -> dict:
    """A table row: seconds are wall seconds (median), ratio is seconds / reference, cpu is user+system CPU."""
    return dict({"part": part, "approach": approach, "n": n, "phase": phase, "seconds": seconds,
                 "ratio": seconds / reference if seconds is not None and reference else None,
                 "peak_rss_mb": rss, "cpu": cpu, "detail": detail}, **extra)


# ---------------------------------------------------------------- (c): per-task cost and imports

def per_task(ansible: Ansible, ns: Namespaces, reps: int) -> list[dict]:
    name = ns.names(1, offset=6000)[0]
    ip_apply([name])  # the state each task finds unchanged
    interpreters = {"pyroute2 0.9": ansible.python, "pyroute2 0.7.2": SYSTEM_PYTHON}
    hosts = {f"bench{i}": python for i, python in enumerate(interpreters.values())}
    inventory = ansible.inventory(hosts)
    tasks = {
        "ping": {"ansible.builtin.ping": {}},
        "stat": {"ansible.builtin.stat": {"path": f"/run/netns/{name}", "get_checksum": False}},
        "netns": {"linuxnet.ipvlan.netns": {"name": name}},
        "link": {"linuxnet.ipvlan.link": {"name": "lo", "netns": name, "state": "up"}},
        "address": {"linuxnet.ipvlan.address": {"netns": name, "dev": "lo", "addresses": ["127.0.0.1/8"]}},
        "route": {"linuxnet.ipvlan.route": {"netns": name, "dst": ROUTE, "dev": "lo"}},
        "ipvlan": {"linuxnet.ipvlan.ipvlan": {"name": "lnbabsent0", "netns": name, "state": "absent"}},
        "facts": {"linuxnet.ipvlan.facts": {"netns": [name], "include_root": False}},
        "info": {"linuxnet.ipvlan.info": {"netns": [name], "include_root": False}},
        "topology": {"linuxnet.ipvlan.topology": topology_args([name])},
    }
    plays = []
    for host in hosts:
        body = []
        for rep in range(reps):
            keys = list(tasks)
            keys = keys[rep % len(keys):] + keys[:rep % len(keys)]   # alternate the order
            body += [dict(tasks[k], name=f"{k} {rep}") for k in keys]
        plays.append({"name": host, "hosts": host, "gather_facts": False, "tasks": body})
    try:
        rec = ansible.playbook(plays, inventory)
    finally:
        delete_netns([name])
    rows, problems = [], []
    for (label, python), host in zip(interpreters.items(), hosts):
        times: dict[str, list] = {k: [] for k in tasks}
        for res in rec["results"]:
            if res["host"] == host:
                key = res["task"].rsplit(" ", 1)[0]
                times[key].append(task_seconds(res))
                if res["changed"] or res["status"] != "ok":
                    problems.append(f"{label} {res['task']}: {res['status']}, changed={res['changed']}")
        ping = median(times["ping"])
        for key in tasks:
            seconds = median(times[key])
            rows.append(row("c", f"task {key}", 1, "no-change", seconds, ping, None,
                            detail=f"{label}; ratio to ping; {len(times[key])} tasks, median",
                            interpreter=label))
    return rows, problems


def ansible_only_env(ansible: Ansible, workdir: str) -> dict:
    """An environment in which /usr/bin/python3 (no ansible) imports the venv's ansible package
    alone, so that pyroute2 stays Debian's 0.7.2; and the collection."""
    path = os.path.join(workdir, "ansible-only")
    if not os.path.isdir(path):
        os.makedirs(path)
        package = run([ansible.python, "-c", "import ansible, os; print(os.path.dirname(ansible.__file__))"])
        os.symlink(package.stdout.strip(), os.path.join(path, "ansible"))
    return dict(os.environ, PYTHONPATH=os.pathsep.join([COLLECTIONS, path]))


def import_times(ansible: Ansible, workdir: str, reps: int) -> list[dict]:
    """Import what each module imports (the module and the engine it runs), per interpreter, -X importtime."""
    rows = []
    env = ansible_only_env(ansible, workdir)
    for label, python in (("pyroute2 0.9", ansible.python), ("pyroute2 0.7.2", SYSTEM_PYTHON)):
        base = [_import_total(python, "pass", env) for _repeat in range(reps)]
        rows.append(row("c", "import (python -c pass)", 0, "start", median([b["wall"] for b in base]), None, None,
                        cpu=median([b["cpu"] for b in base]), detail=f"{label}; interpreter start and exit",
                        interpreter=label))
        for module in MODULES:
            code = (f"import ansible_collections.linuxnet.ipvlan.plugins.modules.{module}; "
                    "import ansible_collections.linuxnet.ipvlan.plugins.module_utils._session")
            samples = [_import_total(python, code, env) for _repeat in range(reps)]
            groups = {k: median([s[k] for s in samples]) for k in ("pyroute2", "ansible", "collection", "other")}
            rows.append(row("c", f"import {module}", 0, "imports", median([s["total"] for s in samples]),
                            None, None, cpu=median([s["cpu"] for s in samples]),
                            detail=f"{label}; importtime: " + " ".join(f"{k} {v:.3f}" for k, v in groups.items())
                            + f"; process wall {median([s['wall'] for s in samples]):.3f}",
                            interpreter=label, groups=groups))
    return rows


def _import_total(python: str, code: str, env: dict) -> dict:
    with Stopwatch() as clock:
        proc = run([python, "-X", "importtime", "-c", code], env=env)
    groups = {"pyroute2": 0.0, "ansible": 0.0, "collection": 0.0, "other": 0.0}
    # Lines come children first; a module's time (and that of the standard library modules it
    # pulls in) goes to the innermost of pyroute2, ansible or the collection that imported it.
    pending: list[tuple[int, str, int, list]] = []   # (depth, name, self us, children)
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not match:
            continue
        depth = len(match.group(3)) // 2
        children = [node for node in pending if node[0] > depth]
        pending = [node for node in pending if node[0] <= depth]
        pending.append((depth, match.group(4), int(match.group(1)), children))

    def charge(node, owner):
        top = node[1].split(".")[0]
        owner = {"pyroute2": "pyroute2", "ansible": "ansible", "ansible_collections": "collection"}.get(top, owner)
        groups[owner] += node[2] / 1e6
        for child in node[3]:
            charge(child, owner)

    for node in pending:
        charge(node, "other")
    groups["total"] = sum(groups.values())
    groups["wall"], groups["cpu"] = clock.wall, clock.cpu
    return groups


# ---------------------------------------------------------------- report

def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            return next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "unknown CPU")
    except OSError:
        return "unknown CPU"


def machine(accel: str = "") -> dict:
    kvm = os.access("/dev/kvm", os.R_OK | os.W_OK)
    return {"nproc": os.cpu_count(), "cpu": cpu_model(), "kernel": f"{platform.system()} {platform.release()}",
            "kvm": kvm, "accel": accel, "load": " ".join(f"{v:.2f}" for v in os.getloadavg()),
            "date": time.strftime("%Y-%m-%d %H:%M %Z")}


def _fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: list[dict]) -> str:
    lines = ["| part | approach | N | phase | seconds | ratio | CPU s | peak RSS MB | how |",
             "|---|---|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['part']} | {r['approach']} | {r['n']} | {r['phase']} | {_fmt(r['seconds'], 3)} | "
                     f"{_fmt(r['ratio'])} | {_fmt(r['cpu'], 3)} | {_fmt(r['peak_rss_mb'], 1)} | {r['detail']} |")
    return "\n".join(lines)


def targets(rows: list[dict]) -> list[dict]:
    """The issue's targets, each with its figure (reported, never a failure of the run)."""
    def get(part, approach, n, phase, key="seconds"):
        for r in rows:
            if (r["part"], r["approach"], r["n"], r["phase"]) == (part, approach, n, phase):
                return r.get(key)
        return None

    out = []
    counts = sorted({r["n"] for r in rows if r["part"] == "a"})
    engines = sorted({r["approach"] for r in rows if r["part"] == "a" and r["approach"].startswith("engine")})
    for n in counts:
        for engine in engines:
            ratio = get("a", engine, n, "first", "ratio")
            out.append({"target": f"{engine}: first run <= 1.0x ip -batch, N={n}", "figure": ratio,
                        "met": ratio is not None and ratio <= 1.0})
            first, again = get("a", engine, n, "first"), get("a", engine, n, "no-change")
            value = again / first if first and again is not None else None
            out.append({"target": f"{engine}: no-change <= 0.5x its first run, N={n}", "figure": value,
                        "met": value is not None and value <= 0.5})
    if len(counts) > 1:
        lo, hi = counts[0], counts[-1]
        for approach in engines + ["topology module"]:
            for phase in ("first", "no-change"):
                a, b = get("a", approach, lo, phase), get("a", approach, hi, phase)
                value = (b / hi) / (a / lo) if a and b else None
                out.append({"target": f"{approach} {phase}: cost per namespace at N={hi} <= 1.2x N={lo}",
                            "figure": value, "met": value is not None and value <= 1.2})
    for r in rows:
        if r["part"] == "c" and r["approach"].startswith("task ") and r["approach"] not in ("task ping", "task stat"):
            out.append({"target": f"no-change {r['approach'][5:]} task <= 1.3x ping ({r['interpreter']})",
                        "figure": r["ratio"], "met": r["ratio"] is not None and r["ratio"] <= 1.3})
    rss = [r["peak_rss_mb"] for r in rows if r["peak_rss_mb"] is not None and r["n"] == max(counts or [0])]
    if rss:
        out.append({"target": f"peak RSS <= 80 MB at N={max(counts)}", "figure": max(rss), "met": max(rss) <= 80})
    for r in rows:
        if r["part"] == "b" and r["approach"] == "topology module" and r.get("loop_ratio") is not None:
            out.append({"target": f"topology >= 20x faster than the per-object loop, N={r['n']}",
                        "figure": r["loop_ratio"], "met": r["loop_ratio"] >= 20})
    return out


def report(meta: dict, rows: list[dict], checks: list[dict], goals: list[dict]) -> str:
    m = meta["machine"]
    head = (f"Run {m['date']}: {m['nproc']} CPUs ({m['cpu']}), {m['kernel']}, "
            f"/dev/kvm {'usable' if m['kvm'] else 'not usable'}; load before {m['load']}; "
            f"parts: {meta['parts']}; {meta['reps']} repetitions, median; {meta['ansible']}; "
            f"pyroute2 {meta['pyroute2']}. Total {meta['total']:.0f} s.")
    lines = [head, "", table(rows), "",
             "| target | figure | met |", "|---|---:|---|"]
    lines += [f"| {g['target']} | {_fmt(g['figure'])} | {'yes' if g['met'] else 'NO'} |" for g in goals]
    failed = [c["check"] for c in checks if not c["ok"]]
    lines += ["", f"Checks: {sum(c['ok'] for c in checks)} passed, {len(failed)} failed"
              + (": " + "; ".join(failed) if failed else ".")]
    return "\n".join(lines)


def update_readme(path: str, block: str, begin: str = README_BEGIN, end: str = README_END) -> None:
    """Replace what stands between the BEGIN and END markers of PATH with BLOCK."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if begin not in text or end not in text:
        raise BenchError(f"{path} has no {begin} ... {end} section")
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        fh.write(f"{head}{begin}\n{block}\n{end}{tail}")
    os.replace(path + ".tmp", path)
    log(f"figures written to {os.path.relpath(path, REPO)}")


# ---------------------------------------------------------------- main

def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="host", choices=["host", "all"],
                        help="host: (a), (c), (d) on this kernel (default); all: and (b) in a lab VM")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of the table")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per figure, median (default 3)")
    parser.add_argument("--counts", default="100,1000", help="host namespace counts (default 100,1000)")
    parser.add_argument("--vm-counts", default="20,100,200", help="lab VM namespace counts (default 20,100,200)")
    parser.add_argument("--venv", default=os.environ.get("VENV", os.path.join(REPO, ".venv")),
                        help="virtualenv with ansible-core and pyroute2 0.9 (default .venv)")
    parser.add_argument("--update-readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",") if c.strip()]
    if os.geteuid() != 0:
        print("bench: creates network namespaces: run it as root", file=sys.stderr)
        return 2
    if not os.path.exists(COLLECTION_LINK):
        print(f"bench: {COLLECTION_LINK} missing: run `make collection`", file=sys.stderr)
        return 2

    signal.signal(signal.SIGTERM, _raise_interrupt)
    t0 = time.monotonic()
    workdir = os.path.join(REPO, "build", "benchmarks", f"bench-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    os.makedirs(workdir)
    ns = Namespaces()
    rows: list[dict] = []
    checks: list[dict] = []
    meta = {"machine": machine(), "parts": args.parts, "reps": args.reps}
    rc = 0
    try:
        ns.register()
        ansible = Ansible(args.venv, workdir)
        meta["ansible"] = run([ansible.playbook_tool, "--version"]).stdout.splitlines()[0]
        meta["pyroute2"] = ", ".join(
            run([py, "-c", "import importlib.metadata as m; print(m.version('pyroute2'))"]).stdout.strip()
            for py in (ansible.python, SYSTEM_PYTHON))
        host = HostPart(args, ns, ansible, workdir, checks)
        for count in counts:
            rows += host.measure(count)
        rows += host.rss(max(counts))
        task_rows, problems = per_task(ansible, ns, max(args.reps, 5))
        rows += task_rows
        host.check(not problems, "per-task: every module task was ok and unchanged" + (f" ({problems[:3]})" if problems else ""))
        rows += import_times(ansible, workdir, max(args.reps, 3))
        host.role_one_run()
        if args.parts == "all":
            sys.modules.setdefault("bench", sys.modules[__name__])  # vm_part imports this file as `bench`
            import vm_part  # tests/benchmarks/vm_part.py, only for --parts all
            rows += vm_part.run(args, ansible, checks, meta)
    except (BenchError, subprocess.SubprocessError, OSError) as exc:
        checks.append({"ok": False, "check": f"error: {str(exc).splitlines()[0]}"})
        print(f"bench: error: {exc}", file=sys.stderr)
        rc = 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        rc = 130
    finally:
        try:
            ns.clean()
        finally:
            ns.unregister()
    meta["total"] = time.monotonic() - t0
    meta.setdefault("ansible", "ansible-core ?")
    meta.setdefault("pyroute2", "?")
    goals = targets(rows)
    with open(os.path.join(workdir, "bench.json"), "w", encoding="utf-8") as fh:
        json.dump({"meta": meta, "rows": rows, "targets": goals, "checks": checks}, fh, indent=1)
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows, "targets": goals, "checks": checks}, indent=1))
    else:
        print(report(meta, rows, checks, goals))
    if args.update_readme and rc == 0:
        block = report(meta, rows, checks, goals)
        update_readme(README, block)
    if any(not c["ok"] for c in checks):
        rc = rc or 1
    log(f"raw figures and logs in {os.path.relpath(workdir, REPO)}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
