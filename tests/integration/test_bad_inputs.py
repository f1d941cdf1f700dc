# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input as data: every case of bad_inputs.yml fails cleanly and changes nothing.

One ansible-playbook run per group (a module or a role) holds all its cases, each a task with
ignore_errors (a role case: a block whose rescue keeps the play going); two runs go at a time.
A case must fail, report changed=false, name its parameter (as a word of the message), say what
its row says, be refused before any request to the kernel, and carry no traceback. The facts
module's view is the same at the start and the end of each group's run, and so is `ip -j` (the
test's namespaces, the namespace list and the root namespace, each as far as a case can reach
them: other test sessions work beside this one) before and after all runs.

Interpreters: every case runs under pyroute2 0.9.x. The parameter checks are pure Python that
run before anything is read, so a second interpreter adds nothing for them; the cases that need
a read of the kernel to be refused (reads: true) run under 0.7.2 as well.
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator, Mapping

import helpers
import pytest
import yaml

from conftest import INTERPRETERS, NetnsFactory, VethFactory, _pyroute2_version

CASES: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    Path(__file__).with_name("bad_inputs.yml").read_text(encoding="utf-8"))
ROLE = re.compile(r"^role (\w+)$")

# A role case sets its vars on top of these (the namespaces role's own defaults name eth0).
ROLE_BASE: dict[str, dict[str, Any]] = {
    "namespaces": {
        "namespaces_master": "{{ rdev }}",
        "namespaces_list": [{"name": "{{ new_ns }}", "slave": "ipvl0", "addresses": ["198.51.100.11/24"]}],
    },
    "prereqs": {},
}


def label(group: str, case: Mapping[str, Any]) -> str:
    return f"{group}: {case['id']}"


def case_tasks(group: str, case: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A module task, or a role included in a block that rescues its failure and ends with a marker."""
    name = label(group, case)
    role = ROLE.match(group)
    if role is None:
        return [{"name": name, f"linuxnet.ipvlan.{group}": case["args"], "ignore_errors": True}]
    include = {
        "name": name,
        "ansible.builtin.include_role": {"name": f"linuxnet.ipvlan.{role.group(1)}"},
        "vars": {**ROLE_BASE[role.group(1)], **case["vars"]},
    }
    marker = {"ansible.builtin.debug": {"msg": name, "verbosity": 9}}
    return [{"name": f"{name} (block)", "block": [include],
             "rescue": [{"name": f"rescued: {name}", **marker}], "always": [{"name": f"end: {name}", **marker}]}]


def facts_task(name: str) -> dict[str, Any]:
    return {"name": name, "linuxnet.ipvlan.facts": {"netns": ["{{ ns }}", "{{ ns2 }}"], "include_root": True}}


# --------------------------------------------------------------------------- host state


def _scalars(value: Any) -> Iterator[str]:
    """Every string a value may become as a name: itself, and Ansible's str() of what is not a string."""
    yield value if isinstance(value, str) else str(value)
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)


# The names a case can reach: a module only touches what its parameters name. The root namespace
# and the namespace list are compared on these (and this session's names) only, because other
# test sessions and benchmarks create and remove their own objects beside this test.
NAMES = {name for cases in CASES.values() for case in cases for name in _scalars(case.get("args", case.get("vars")))}


def reachable(name: str) -> bool:
    return name.startswith(helpers.SESSION_PREFIX) or name in NAMES


VOLATILE = {"operstate", "tentative", "valid_life_time", "preferred_life_time"}


def stable(entries: list[dict[str, Any]], root: bool) -> list[dict[str, Any]]:
    """ip -j entries (of the root namespace: those a case can reach) without what the kernel changes by itself."""
    kept = []
    for entry in entries:
        if root and not reachable(entry.get("ifname") or entry.get("dev") or ""):
            continue
        entry = {k: v for k, v in entry.items() if k not in VOLATILE}
        if "addr_info" in entry:
            entry["addr_info"] = [{k: v for k, v in a.items() if k not in VOLATILE} for a in entry["addr_info"]]
        kept.append(entry)
    return kept


def ip_snapshot(namespaces: list[str]) -> dict[str, Any]:
    state: dict[str, Any] = {"netns": sorted(n for n in helpers.netns_names() if reachable(n))}
    for ns in [None, *namespaces]:
        state[ns or "root"] = {
            "link": stable(helpers.ip_json(ns, "link", "show"), ns is None),
            "addr": stable(helpers.ip_json(ns, "address", "show"), ns is None),
            "route4": stable(helpers.ip_json(ns, "-4", "route", "show", "table", "all"), ns is None),
            "route6": stable(helpers.ip_json(ns, "-6", "route", "show", "table", "all"), ns is None),
        }
    return state


def stable_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    view = json.loads(json.dumps(facts["linuxnet_ipvlan"]))
    root = view["root"]
    root["links"] = {name: link for name, link in root["links"].items() if reachable(name)}
    root["routes"] = [r for r in root["routes"] if reachable(r.get("dev") or "")]
    return view


def differences(before: Any, after: Any, path: str = "") -> Iterator[str]:
    """Where two JSON-like values differ, as paths."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            yield from differences(before.get(key), after.get(key), f"{path}/{key}")
    elif isinstance(before, list) and isinstance(after, list):
        old, new = [json.dumps(e, sort_keys=True) for e in before], [json.dumps(e, sort_keys=True) for e in after]
        yield from (f"{path}: - {e[:400]}" for e in old if e not in new)
        yield from (f"{path}: + {e[:400]}" for e in new if e not in old)
    elif before != after:
        yield f"{path}: {json.dumps(before, default=str)[:300]} -> {json.dumps(after, default=str)[:300]}"


# --------------------------------------------------------------------------- checks

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
KERNEL_ERROR = re.compile(r"\[errno \d+\]")  # _errors.explain(): a netlink request failed
# An exception the module did not handle: ansible-core 2.19 says only this at verbosity 0.
UNHANDLED = re.compile(r"(Task failed: )?Module failed:|MODULE FAILURE")
PYTHON_FRAME = re.compile(r'File \\?"[^"]+\\?", line \d+')


def names_param(msg: str, param: str) -> bool:
    """PARAM is a word of MSG: `name` is neither in `namespaces[0].name` nor in `namespaces`."""
    return re.search(r"(?<![\w.\]\[])" + re.escape(param) + r"(?![\w\[])", msg) is not None


def problems(case: Mapping[str, Any], results: list[helpers.TaskResult], context: Mapping[str, str]) -> list[str]:
    """What is wrong with a case's results (nothing: it failed cleanly)."""
    failed = [r for r in results if r.failed]
    if not failed:
        return ["did not fail: " + json.dumps([dict(r) for r in results], default=str)[:600]]
    msg = failed[0].msg
    found = ["changed=true"] if any(r.changed for r in results) else []
    if not names_param(msg, case["param"]):
        found.append(f"does not name {case['param']!r}")
    says = case.get("says", [])
    for word in [says] if isinstance(says, str) else says:
        word = PLACEHOLDER.sub(lambda m: context[m.group(1)], str(word))
        if word not in msg:
            found.append(f"does not say {word!r}")
    if KERNEL_ERROR.search(msg):
        found.append("refused by the kernel, not before")
    # ansible-core 2.19 sets exception to "(traceback unavailable)" on every fail_json
    text = json.dumps(dict(failed[0]), default=str)
    if "Traceback" in text or "module_stderr" in failed[0] or PYTHON_FRAME.search(text) or UNHANDLED.match(msg):
        found.append("traceback")
    return [f"{p}: {msg[:400]!r}" for p in found]


def results_by_case(run: helpers.PlaybookRun, labels: set[str]) -> dict[str, list[helpers.TaskResult]]:
    """Task results by case label (a role case: everything up to its end marker)."""
    grouped: dict[str, list[helpers.TaskResult]] = {}
    pending: list[helpers.TaskResult] = []
    for result in run:
        if result.task.startswith("end: "):
            grouped[result.task[len("end: "):]] = pending
            pending = []
        elif result.task in labels:
            grouped[result.task] = [result]
        elif not result.task.startswith(("rescued: ", "facts ")):
            pending.append(result)
    return grouped


# --------------------------------------------------------------------------- the test


def settle(links: list[tuple[str | None, str]], timeout: float = 30) -> None:
    """Wait until every link has its IPv6 link-local address, past duplicate address detection: the
    kernel adds the address once it sees the carrier (linkwatch may take a second) and its local
    route once DAD ends. A snapshot taken before would see them appear during the bad inputs."""
    def settled(ns: str | None, dev: str) -> bool:
        entries = helpers.ip_json(ns, "-6", "address", "show", "dev", dev)
        infos = [info for entry in entries for info in entry.get("addr_info", [])]
        return any(info["local"].startswith("fe80:") for info in infos) and not any(
            info.get("tentative") for info in infos)

    deadline = time.monotonic() + timeout
    while not all(settled(ns, dev) for ns, dev in links):
        assert time.monotonic() < deadline, f"IPv6 link-local addresses never settled on {links}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def context() -> Iterator[dict[str, str]]:
    """The objects the cases refer to (the placeholders of bad_inputs.yml), made once."""
    netns, veth = NetnsFactory(), VethFactory()
    try:
        ns, ns2 = netns(lo_up=True), netns(lo_up=True)
        dev, dev2 = veth(ns, ns2, up=True)
        down = veth(ns, ns2)[0]
        rdev, rdev_peer = veth(None, ns2, up=True)
        helpers.ip("address", "add", "192.0.2.1/24", "dev", dev, netns=ns)
        helpers.ip("address", "add", "2001:db8:1::1/64", "dev", dev, "nodad", netns=ns)
        helpers.ip("address", "add", "192.0.2.2/24", "dev", dev2, netns=ns2)
        settle([(ns, dev), (ns2, dev2), (None, rdev), (ns2, rdev_peer)])
        yield {"ns": ns, "ns2": ns2, "dev": dev, "dev2": dev2, "down": down, "rdev": rdev,
               "new_ns": netns.name(), "new_ns2": netns.name(), "new_dev": helpers.new_name()}
    finally:
        veth.cleanup()
        netns.cleanup()


@pytest.fixture(scope="module")
def interpreters() -> dict[str, str]:
    found = {}
    for name, (path, series) in INTERPRETERS.items():
        version = _pyroute2_version(str(path))
        if not version.startswith(series):
            pytest.fail(f"{name}: pyroute2 {series}x expected in {path}, found: {version}. Run 'make setup'.")
        found[name] = str(path)
    return found


def selection(group: str, interpreter: str) -> list[dict[str, Any]]:
    """pyroute2 0.9.x runs every case; 0.7.2 those that read the kernel (see the module docstring)."""
    return [case for case in CASES[group] if interpreter == "pyroute2-0.9" or case.get("reads")]


@pytest.fixture(scope="module")
def outcome(request: pytest.FixtureRequest, context, interpreters) -> dict[str, Any]:
    """Every selected group's playbooks, two at a time (the host has two cores), between two snapshots."""
    groups = {item.callspec.params["group"] for item in request.session.items
              if item.module is request.module and "group" in getattr(getattr(item, "callspec", None), "params", {})}
    groups = groups or set(CASES)
    jobs = [(group, name) for group in CASES if group in groups for name in interpreters if selection(group, name)]
    jobs.sort(key=lambda job: -len(selection(*job)))   # longest first: the two workers end together

    def run(job: tuple[str, str]) -> helpers.PlaybookRun:
        group, name = job
        tasks = [case_task for case in selection(group, name) for case_task in case_tasks(group, case)]
        if name == "pyroute2-0.9":
            tasks = [facts_task("facts before"), *tasks, facts_task("facts after")]
        return helpers.run_tasks(tasks, interpreter=interpreters[name], play_vars=context, timeout=1800)

    namespaces = [context["ns"], context["ns2"]]
    before = ip_snapshot(namespaces)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(jobs, pool.map(run, jobs)))
    return {"runs": runs, "before": before, "after": ip_snapshot(namespaces)}


def test_case_count():
    """At least 150 distinct cases (the README's reliability section gives the count)."""
    labels = [label(group, case) for group, cases in CASES.items() for case in cases]
    assert len(set(labels)) == len(labels), "two cases share a label"
    assert len(labels) >= 150, {group: len(cases) for group, cases in CASES.items()}


@pytest.mark.parametrize("group", list(CASES))
def test_bad_inputs_fail_cleanly(group, outcome, context):
    report = []
    for (run_group, name), run in outcome["runs"].items():
        if run_group != group:
            continue
        cases = selection(group, name)
        grouped = results_by_case(run, {label(group, c) for c in cases if not ROLE.match(group)})
        for case in cases:
            results = grouped.get(label(group, case))
            found = problems(case, results, context) if results is not None else ["no result"]
            report += [f"[{name}] {case['id']}: {p}" for p in found]
        if name == "pyroute2-0.9":
            facts = [stable_facts(run.task(f"facts {when}")["ansible_facts"]) for when in ("before", "after")]
            report += [f"[{name}] facts {d}" for d in differences(*facts)]
    assert not report, f"{len(report)} problems in {len(CASES[group])} {group} cases:\n" + "\n".join(report)


def test_host_unchanged_by_bad_inputs(outcome):
    """The root namespace (what a case can reach), the test's namespaces and the namespace list."""
    changes = list(differences(outcome["before"], outcome["after"]))
    assert not changes, "ip -j before and after the bad inputs:\n" + "\n".join(changes)
