# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only module (molecule/modules/property.yml): a seeded random walk through ipvlan states.

Not part of the collection (it lives outside plugins/ and is never shipped). It runs on a VM,
where the kernel has ipvlan, and drives the engine in-process: one Ansible task explores many
states (under TCG an Ansible task costs seconds, an in-process step a fraction of one).
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvlan_property
short_description: Seeded random walk through ipvlan desired states, checking the engine's promises
description:
  - Creates its own namespaces C(pt-a), C(pt-b), C(pt-m) and dummy masters C(pm0), C(pm1) (root
    namespace) and C(pm2) (in C(pt-m)), then applies O(steps) random desired states to the slaves
    C(pt0), C(pt1), C(pt2), each declared as the linuxnet.ipvlan.ipvlan module declares one
    (mode, flags, master and its namespace, slave namespace, mtu, admin state, allow_port_change,
    recreate, or state=absent), one to three slaves per step planned together.
  - "Each step checks: check mode changes nothing; the real run plans the actions check mode
    predicted, or refuses with the same message and changes nothing; a second run changes
    nothing; every slave is as declared; the engine's view (what linuxnet.ipvlan.facts returns)
    equals C(ip -d -j link) in every namespace of the test."
  - Removes everything it made at the end, and before it starts.
options:
  seed:
    description: Seed of the random walk; the same seed replays the same steps.
    type: int
    required: true
  steps:
    description: Number of steps.
    type: int
    default: 40
author: linuxnet.ipvlan contributors
"""

import json
import random

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import IPVLAN_FLAGS, IPVLAN_MODES
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import ROOT, IpvlanSpec, NamespaceSpec
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import check_ipvlan
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._pyroute2 import ensure_pyroute2
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import namespace_view
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._runner import converge

SLAVES = ('pt0', 'pt1', 'pt2')
MASTERS = {'pm0': ROOT, 'pm1': ROOT, 'pm2': 'pt-m'}       # dummy master -> its namespace
SLAVE_NETNS = (ROOT, 'pt-a', 'pt-b')
NAMESPACES = (ROOT, 'pt-a', 'pt-b', 'pt-m')               # what the test reads and compares
MTUS = (None,) * 6 + (1400, 1500, 9000)                   # 9000 > the masters' 1500: refused


class StepFailed(Exception):
    pass


def random_params(rng, name, port_modes):
    """One slave as the ipvlan module's parameters after its argument spec.

    PORT_MODES: a mode and flags per master for this step; mostly followed, so that most steps
    are valid and change something, sometimes not, so that refusals are explored too.
    """
    if rng.random() < 0.2:
        return dict(name=name, netns=rng.choice(SLAVE_NETNS), state='absent', master=None, master_netns=None,
                    mode='l3', flags='bridge', mtu=None, admin_state=None, allow_port_change=False, recreate=False)
    master = rng.choice(sorted(MASTERS))
    mode, flags = port_modes[master] if rng.random() < 0.85 else random_port_mode(rng)
    return dict(name=name, netns=rng.choice(SLAVE_NETNS), state='present', master=master,
                master_netns=MASTERS[master], mode=mode, flags=flags, mtu=rng.choice(MTUS),
                admin_state=rng.choice((None, 'up', 'down')), allow_port_change=rng.random() < 0.7,
                recreate=rng.random() < 0.7)


def random_port_mode(rng):
    return rng.choice(sorted(IPVLAN_MODES)), rng.choice(sorted(IPVLAN_FLAGS))


def random_step(rng, port_modes):
    """One to three slaves, as one module run would declare them.

    PORT_MODES (updated): a mode and flags per master, kept from step to step but for a random
    change now and then, as a play would change a port's mode.
    """
    for master in sorted(MASTERS):
        if master not in port_modes or rng.random() < 0.25:
            port_modes[master] = random_port_mode(rng)
    return [random_params(rng, name, port_modes) for name in rng.sample(SLAVES, rng.randint(1, len(SLAVES)))]


def specs_of(declared):
    """NamespaceSpecs as linuxnet.ipvlan.ipvlan builds them, one namespace spec per slave namespace."""
    by_netns = {}
    for params in declared:
        netns, fields = check_ipvlan(params)
        by_netns.setdefault(netns, []).append(IpvlanSpec(
            present=params['state'] == 'present', recreate=params['recreate'],
            allow_port_change=params['allow_port_change'], **fields))
    return [NamespaceSpec(netns, ipvlans=tuple(ipvlans)) for netns, ipvlans in by_netns.items()]


def kind_of(action, before):
    """The action's type, and whether a slave is made where its master's namespace has its name."""
    kind = type(action).__name__
    if kind == 'CreateIpvlan' and action.netns != action.master_netns \
            and action.name in before.get(action.master_netns).links:
        kind += ' (its name taken beside the master)'
    return kind


class Walk:
    def __init__(self, module):
        self.module = module
        from ansible_collections.linuxnet.ipvlan.plugins.module_utils._session import Session
        self.session_class = Session

    # --- the kernel through iproute2, the oracle ------------------------------------

    def ip(self, netns, *args):
        argv = ['ip'] + (['-n', netns] if netns is not ROOT else []) + list(args)
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            raise StepFailed('%s failed: %s' % (' '.join(argv), err.strip()))
        return out

    def ip_links(self, netns):
        return {link['ifname']: link for link in json.loads(self.ip(netns, '-d', '-j', 'link', 'show'))}

    def snapshot(self):
        """Every link of the test's namespaces, as far as a change by this collection would show."""
        shape = {}
        for netns in NAMESPACES:
            for name, link in self.ip_links(netns).items():
                shape[(netns, name)] = (
                    link['ifindex'], sorted(set(link['flags']) - {'LOWER_UP', 'NO-CARRIER'}), link['mtu'],
                    link.get('address'), link.get('ifalias'), link.get('link'), link.get('link_index'),
                    json.dumps(link.get('linkinfo'), sort_keys=True))
        return shape

    def setup(self, cleanup_only=False):
        for netns in ('pt-a', 'pt-b', 'pt-m'):
            self.module.run_command(['ip', 'netns', 'delete', netns])
        for name in SLAVES + ('pm0', 'pm1'):
            self.module.run_command(['ip', 'link', 'delete', name])
        if cleanup_only:
            return
        for netns in ('pt-a', 'pt-b', 'pt-m'):
            self.ip(ROOT, 'netns', 'add', netns)
        for master, netns in sorted(MASTERS.items()):
            self.ip(netns, 'link', 'add', master, 'type', 'dummy')
            self.ip(netns, 'link', 'set', master, 'up')

    # --- the engine, as run_module drives it ----------------------------------------

    def run(self, specs, check):
        with self.session_class() as session:
            try:
                outcome = converge(session, lambda world: specs, check)
            except TaskError as exc:
                return {'failed': exc.msg, 'applied': exc.details.get('applied', [])}
            return {'changed': outcome.changed, 'actions': outcome.first.describe(),
                    'kinds': [kind_of(a, outcome.first.before) for a in outcome.first.actions],
                    'warnings': outcome.warnings}

    def views(self):
        with self.session_class() as session:
            world = session.world()
            return world, {netns: namespace_view(world, world.get(netns)) for netns in NAMESPACES}

    # --- the checks --------------------------------------------------------------

    def step(self, declared):
        specs = specs_of(declared)
        before = self.snapshot()
        check = self.run(specs, True)
        if self.snapshot() != before:
            raise StepFailed('check mode changed the host: %s' % check)
        real = self.run(specs, False)
        if 'failed' in check:
            if real.get('failed') != check['failed'] or real.get('applied'):
                raise StepFailed('check mode refused (%s), the real run did: %s' % (check['failed'], real))
            if self.snapshot() != before:
                raise StepFailed('a refused run changed the host: %s' % real)
            return 'refused: ' + check['failed'].split(':')[0], []
        if 'failed' in real:
            raise StepFailed('check mode planned %s, the real run failed: %s' % (check['actions'], real))
        for key in ('changed', 'actions', 'warnings'):
            if check[key] != real[key]:
                raise StepFailed('%s: check mode %r, real run %r' % (key, check[key], real[key]))
        again = self.run(specs, False)
        if again.get('failed') or again['changed']:
            raise StepFailed('the second run was not a no-op: %s' % again)
        self.compare_facts(declared)
        return ('changed' if real['changed'] else 'unchanged'), real['kinds']

    def compare_facts(self, declared):
        world, views = self.views()
        ip = {netns: self.ip_links(netns) for netns in NAMESPACES}
        ids_of = {netns: {entry['nsid']: entry.get('name')
                          for entry in json.loads(self.ip(netns, '-j', 'netns', 'list-id'))} for netns in NAMESPACES}
        # A slave of the walk may sit beside a master of the scenario's other namespaces (its name taken
        # in the root namespace): those namespaces' links name that master too.
        for other in {name for ids in ids_of.values() for name in ids.values() if name} - set(ip):
            ip[other] = self.ip_links(other)
        for netns in NAMESPACES:
            ids = ids_of[netns]
            facts = views[netns]['links']
            if sorted(facts) != sorted(ip[netns]):
                raise StepFailed('%s: facts list %s, ip lists %s' % (netns, sorted(facts), sorted(ip[netns])))
            for name, fact in facts.items():
                self.compare_link(netns, name, fact, ip[netns][name], ip, ids)
        for params in declared:
            self.compare_declared(params, views)

    @staticmethod
    def compare_link(netns, name, fact, link, ip, ids):
        info = link.get('linkinfo', {})
        got = dict(ifindex=link['ifindex'], kind=info.get('info_kind'), mtu=link['mtu'], mac=link.get('address'),
                   state='up' if 'UP' in link['flags'] else 'down', alias=link.get('ifalias'))
        want = {key: fact[key] for key in got}
        if fact['kind'] == 'ipvlan':
            data = info.get('info_data', {})
            flags = [flag for flag in IPVLAN_FLAGS if data.get(flag)]
            if 'link_netnsid' in link:
                master_netns = ids.get(link['link_netnsid'])   # no name: the root namespace
                master = [n for n, other in ip.get(master_netns, {}).items() if other['ifindex'] == link['link_index']]
            else:
                master_netns, master = netns, [link.get('link')]
            got.update(mode=data.get('mode'), flags=flags, master=master, master_netns=master_netns)
            ipv = fact['ipvlan']
            want.update(mode=ipv['mode'], flags=[ipv['flags']], master=[ipv['master']], master_netns=ipv['master_netns'])
        if got != want:
            raise StepFailed('%s in %s: facts say %s, ip says %s' % (name, netns or '(root)', want, got))

    @staticmethod
    def compare_declared(params, views):
        fact = views[params['netns']]['links'].get(params['name'])
        if params['state'] == 'absent':
            if fact is not None:
                raise StepFailed('%s declared absent, still there: %s' % (params['name'], fact))
            return
        want = dict(kind='ipvlan', mode=params['mode'], flags=params['flags'], master=params['master'],
                    master_netns=params['master_netns'])
        got = dict(kind=fact and fact['kind'], **{k: (fact or {}).get('ipvlan', {}).get(k) for k in
                                                  ('mode', 'flags', 'master', 'master_netns')})
        if params['mtu'] is not None:
            want['mtu'], got['mtu'] = params['mtu'], fact and fact['mtu']
        if params['admin_state'] is not None:
            want['state'], got['state'] = params['admin_state'], fact and fact['state']
        if got != want:
            raise StepFailed('%s in %s: declared %s, got %s' % (params['name'], params['netns'] or '(root)', want, got))


def main():
    module = AnsibleModule(
        argument_spec=dict(seed=dict(type='int', required=True), steps=dict(type='int', default=40)),
        supports_check_mode=False,
    )
    ensure_pyroute2(module)
    rng = random.Random(module.params['seed'])
    walk = Walk(module)
    counts, kinds, done, port_modes = {}, {}, 0, {}
    walk.setup()
    try:
        for index in range(module.params['steps']):
            declared = random_step(rng, port_modes)
            try:
                outcome, step_kinds = walk.step(declared)
            except (StepFailed, TaskError) as exc:
                module.fail_json(msg='step %d of seed %d: %s' % (index, module.params['seed'], exc),
                                 declared=declared, steps_done=done, outcomes=counts)
            counts[outcome] = counts.get(outcome, 0) + 1
            for kind in step_kinds:
                kinds[kind] = kinds.get(kind, 0) + 1
            done += 1
    finally:
        walk.setup(cleanup_only=True)
    module.exit_json(changed=True, steps_done=done, outcomes=counts, actions=kinds)


if __name__ == '__main__':
    main()
