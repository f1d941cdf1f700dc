#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: topology
short_description: Converge a host's namespaces, ipvlan slaves, addresses and routes in one task
version_added: 0.1.0
description:
  - Declares the whole multi-namespace setup of the kernel's ipvlan HOWTO for one host, and converges it in one module
    run, with one pyroute2 import, each namespace entered once and one plan for everything.
  - It uses the same planner and applier as the single-object modules; check mode and diff behave the same,
    and the diff is grouped by namespace.
  - In a declared namespace, C(lo) is brought up (with 127.0.0.1, as in the HOWTO), each ipvlan slave's addresses
    are exactly the ones listed (IPv6 link-local excepted), and the routes are exactly the ones listed (those the
    kernel made, such as an address's prefix route, excepted).
  - B(Management marker.) Every namespace and ipvlan slave this module manages is marked with its O(owner). The
    slave's interface alias (C(ip link set DEV alias ...), IFLA_IFALIAS), and the alias of C(lo) inside a managed
    namespace, are set to C(managed-by=linuxnet.ipvlan owner=OWNER). With O(purge=true), namespaces and ipvlan slaves
    marked with this O(owner) that are no longer declared are removed. Nothing without the marker, and nothing marked
    with another owner, is ever removed by purge; a namespace of this owner that holds a slave of another owner stays
    (only this owner's slaves in it go). A namespace without a name (one a process or a container runtime holds,
    such as one of ours whose name was removed while a process still ran in it) is never purged. A marker without owner (written by version 0.1.0) counts as
    O(owner=default)'s, and is rewritten with the owner the next time its object is declared.
  - B(Boot persistence.) With O(persist), the same run also installs (or removes) a systemd unit that recreates the
    declared topology at boot with iproute2, without Ansible; see O(persist).
extends_documentation_fragment:
  - linuxnet.ipvlan._attributes
  - linuxnet.ipvlan._pyroute2
options:
  namespaces:
    description: The namespaces of the host.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Namespace name, a name only (a namespace this module may create and remove; a path is refused).
        type: str
        required: true
      state:
        description: V(absent) removes the namespace (marked or not); everything else in the entry is then ignored.
        type: str
        choices: [present, absent]
        default: present
      lo:
        description: Bring C(lo) up with 127.0.0.1/8 (the HOWTO's steps (d)(3) and (d)(4)).
        type: bool
        default: true
      ipvlans:
        description: ipvlan slaves that live in this namespace.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Slave name (at most 15 bytes).
            type: str
            required: true
          master:
            description: The master device.
            type: str
            required: true
          master_netns:
            description: Namespace of the master; omit for the module's own.
            type: str
          mode:
            description: ipvlan mode; all slaves of one master must agree.
            type: str
            choices: [l2, l3, l3s]
            default: l3
          flags:
            description: ipvlan port flag; all slaves of one master must agree.
            type: str
            choices: [bridge, private, vepa]
            default: bridge
          mtu:
            description: MTU; omit to follow the master.
            type: int
          admin_state:
            description: Admin state.
            type: str
            choices: [up, down]
            default: up
          addresses:
            description: The slave's addresses in CIDR notation, exactly.
            type: list
            elements: str
            default: []
          nodad:
            description: Add IPv6 addresses without duplicate address detection.
            type: bool
            default: false
      routes:
        description:
          - The namespace's routes, exactly. Same options as M(linuxnet.ipvlan.route).
          - Every other route of the namespace, in any table but the local one, of any type, multipath ones
            included, is removed, except those the kernel made (protocol C(kernel) or C(ra), such as the prefix
            route of an address).
          - Two routes with one destination, table and metric are refused before anything changes (the kernel
            keeps one route per key).
        type: list
        elements: dict
        default: []
        suboptions:
          dst:
            description: V(default) or a network in CIDR notation.
            type: str
            required: true
          type:
            description: Route type; the reject types take no next hop.
            type: str
            choices: [unicast, blackhole, unreachable, prohibit, throw]
          gateway:
            description: Next hop (a link-local IPv6 one may name its device with a zone id, V(fe80::1%eth0)).
            type: str
          dev:
            description: Output device.
            type: str
          nexthops:
            description: Next hops of a multipath route, instead of O(namespaces[].routes[].gateway) and
              O(namespaces[].routes[].dev).
            type: list
            elements: dict
            suboptions:
              gateway:
                description: Gateway of this next hop.
                type: str
              dev:
                description: Output device of this next hop.
                type: str
              weight:
                description: Relative weight, 1 to 256.
                type: int
                default: 1
              onlink:
                description: Use the gateway even if no connected prefix covers it.
                type: bool
                default: false
          family:
            description: Family of V(default) without gateway.
            type: str
            choices: [ipv4, ipv6]
          metric:
            description: Metric.
            type: int
          table:
            description: Routing table.
            type: str
          scope:
            description: IPv4 scope.
            type: str
            choices: [universe, link, host]
          onlink:
            description: Use the gateway even if no connected prefix covers it.
            type: bool
            default: false
  purge:
    description: Remove the namespaces and ipvlan slaves marked with O(owner) that are not declared.
    type: bool
    default: false
  owner:
    description:
      - The scope this declaration manages, recorded in the marker of every namespace and slave it declares.
        O(purge=true) removes only what carries this owner, so plays (or users) that manage separate parts of
        one host give each part its own owner and never remove each other's objects.
      - Letters, digits, C(.), C(_) and C(-), at most 222 characters (the marker must fit in an interface alias,
        255 bytes).
      - Declaring an object marked with another owner takes it over (its marker is rewritten).
    type: str
    default: default
    version_added: 0.2.0
  allow_port_change:
    description: Allow changing the mode or flags of a master that has slaves not declared with that mode.
    type: bool
    default: false
  persist:
    description:
      - Boot persistence of the declared topology, in the same module run. Omitted, no unit is managed.
      - V(present) writes C(/etc/systemd/system/<unit>), a oneshot unit (RemainAfterExit) that recreates the declared
        namespaces, slaves (with this O(owner)'s marker), addresses and routes with iproute2 at boot, ordered after the
        masters' devices appear and before C(network-online.target), wanted by C(multi-user.target); then enables it
        and starts it (restarts it when its text changed). Run on a converged host the unit changes nothing. Needs a
        host that runs systemd.
      - V(absent) stops, disables and removes the unit if it is there; the live topology stays as it is.
      - On a host where nothing is to change this costs one file read and one C(systemctl show).
    type: dict
    version_added: 0.2.0
    suboptions:
      state:
        description: Whether the unit is installed.
        type: str
        choices: [present, absent]
        default: present
      unit:
        description: File name of the unit under C(/etc/systemd/system).
        type: str
        default: linuxnet-ipvlan.service
      ip:
        description: Path of iproute2's C(ip) on the host, which the unit runs.
        type: path
        default: /usr/sbin/ip
      masters:
        description:
          - Devices the unit waits for and brings up before anything else.
          - Omit for the masters of the declared slaves in the module's namespace.
        type: list
        elements: str
seealso:
  - module: linuxnet.ipvlan.ipvlan
  - module: linuxnet.ipvlan.facts
author:
  - linuxnet.ipvlan developers (@linuxnet)
"""

EXAMPLES = r"""
- name: The HOWTO's example configuration, section 6
  linuxnet.ipvlan.topology:
    namespaces:
      - name: ns0
        ipvlans:
          - {name: ipvl0, master: eth0, mode: l2, addresses: [198.51.100.11/24]}
        routes:
          - {dst: default, gateway: 198.51.100.1}
      - name: ns1
        ipvlans:
          - {name: ipvl1, master: eth0, mode: l2, addresses: [198.51.100.12/24]}
        routes:
          - {dst: default, gateway: 198.51.100.1}

- name: Only ns0 now; remove the other namespaces this declaration made (owner default)
  linuxnet.ipvlan.topology:
    namespaces:
      - name: ns0
        ipvlans:
          - {name: ipvl0, master: eth0, mode: l2, addresses: [198.51.100.11/24]}
    purge: true

- name: Another play's scope on the same host; its purge never touches the namespaces above
  linuxnet.ipvlan.topology:
    owner: tenant-b
    namespaces:
      - name: tb0
    purge: true
"""

RETURN = r"""
namespaces:
  description:
    - Each declared namespace after the task (predicted in check mode), shaped as in M(linuxnet.ipvlan.facts),
      kernel-made routes left out.
  returned: success
  type: dict
  sample:
    ns0:
      exists: true
      links:
        ipvl0: {kind: ipvlan, state: up, mtu: 1500, addresses: [198.51.100.11/24],
                ipvlan: {mode: l2, flags: bridge, master: eth0}}
      routes:
        - {dst: default, gateway: 198.51.100.1, dev: ipvl0}
marker:
  description: The interface alias that marks this owner's objects.
  returned: success
  type: str
  sample: managed-by=linuxnet.ipvlan owner=default
  version_added: 0.2.0
actions:
  description: The plan, one line per change; with O(persist), what was done to the boot unit follows.
  returned: success
  type: list
  elements: str
  sample: [create namespace ns0, "create ipvlan ipvl0 on eth0 (the root namespace), mode l2 bridge in namespace ns0"]
second_pass:
  description:
    - Actions of a second pass, run because the kernel flushed by itself a route or an IPv6 address that existed before
      the task and that the first pass kept (a documented kernel side effect, see the collection README).
  returned: when a second pass ran
  type: list
  elements: str
  sample: [add route 203.0.113.0/24 dev veth0 scope link in namespace ns0]
"""

# First: turns away a Python older than the modules need, before code it cannot compile is imported.
from ansible_collections.linuxnet.ipvlan.plugins.module_utils import _floor  # noqa: F401  pylint: disable=unused-import

import ipaddress

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._argspec import (
    ROUTE_EXCLUSIVE,
    ipvlan_options,
    new_module,
    route_options,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._bootunit import BootUnit, preflight
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    DEFAULT_OWNER,
    ROOT,
    AddressesSpec,
    IpvlanSpec,
    LinkSpec,
    NamespaceSpec,
    RouteSpec,
    is_netns_path,
    marker,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._params import (
    build_route,
    check_ipvlan,
    check_netns_name,
    check_owner,
    check_unique_routes,
    parse_cidr,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._render import namespace_view
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._runner import run_module

LOOPBACK = ipaddress.ip_interface('127.0.0.1/8')


def namespace_spec(entry, prefix, allow_port_change, owner_marker=marker(DEFAULT_OWNER)):
    """The spec of one declared namespace; OWNER_MARKER marks it and its slaves."""
    if entry['state'] == 'absent':
        return NamespaceSpec(check_netns_name(entry['name'], prefix + 'name'), ensure='absent')
    name = check_netns_name(entry['name'], prefix + 'name', create=True)
    ipvlans, addresses = [], []
    for index, item in enumerate(entry['ipvlans']):
        item_prefix = '%sipvlans[%d].' % (prefix, index)
        fields = check_ipvlan(dict(item, netns=name), prefix=item_prefix)[1]
        ipvlans.append(IpvlanSpec(marker=owner_marker, allow_port_change=allow_port_change, **fields))
        ips = tuple(parse_cidr(value, item_prefix + 'addresses') for value in item['addresses'])
        addresses.append(AddressesSpec(fields['name'], ips, purge=True, nodad=item['nodad']))
    _no_duplicates([i.name for i in ipvlans], prefix + 'ipvlans')
    # lo carries the namespace's marker, so purge can tell our namespaces from others.
    links = [LinkSpec('lo', up=True if entry['lo'] else None, alias=owner_marker)]
    if entry['lo']:
        addresses.append(AddressesSpec('lo', (LOOPBACK,)))
    routes = [build_route(route, prefix='%sroutes[%d].' % (prefix, index))
              for index, route in enumerate(entry['routes'])]
    check_unique_routes(routes, prefix + 'routes')
    routes = [RouteSpec(route) for route in routes]
    return NamespaceSpec(name, ensure='present', ipvlans=tuple(ipvlans), links=tuple(links),
                         addresses=tuple(addresses), routes=tuple(routes), purge_routes=True)


def _no_duplicates(names, param):
    seen = set()
    for name in names:
        if name in seen:
            raise TaskError('%s: %s is declared twice' % (param, name))
        seen.add(name)


def purge_specs(world, specs, owner=DEFAULT_OWNER):
    """Specs removing what carries OWNER's marker but is no longer declared.

    A namespace goes as a whole only when nothing in it carries another owner's marker;
    otherwise only OWNER's slaves in it go.
    """
    declared = {spec.name: spec for spec in specs}
    extra = []
    for namespace in world.all():
        if is_netns_path(namespace.name):
            continue   # without a name, it is not this module's: a process or a container runtime holds it
        spec = declared.get(namespace.name)
        if spec is not None and spec.ensure == 'absent':
            continue
        if spec is None and namespace.name is not ROOT and _owned_wholly(namespace, owner):
            extra.append(NamespaceSpec(namespace.name, ensure='absent'))
            continue
        wanted = {i.name for i in spec.ipvlans} if spec else set()
        stale = tuple(IpvlanSpec(link.name, present=False) for link in namespace.links.values()
                      if link.kind == 'ipvlan' and link.owner == owner and link.name not in wanted)
        if stale:
            extra.append(NamespaceSpec(namespace.name, ipvlans=stale))
    return extra


def _owned_wholly(namespace, owner):
    lo = namespace.links.get('lo')
    return (lo is not None and lo.owner == owner
            and all(link.owner in (None, owner) for link in namespace.links.values()))


def argument_spec():
    ipvlan = ipvlan_options()
    ipvlan['master']['required'] = True
    ipvlan['admin_state']['default'] = 'up'
    ipvlan.update(addresses=dict(type='list', elements='str', default=[]), nodad=dict(type='bool', default=False))
    return dict(
        namespaces=dict(type='list', elements='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            lo=dict(type='bool', default=True),
            ipvlans=dict(type='list', elements='dict', default=[], options=ipvlan),
            routes=dict(type='list', elements='dict', default=[], options=route_options(),
                        mutually_exclusive=ROUTE_EXCLUSIVE),
        )),
        purge=dict(type='bool', default=False),
        owner=dict(type='str', default=DEFAULT_OWNER),
        allow_port_change=dict(type='bool', default=False),
        persist=dict(type='dict', options=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            unit=dict(type='str', default='linuxnet-ipvlan.service'),
            ip=dict(type='path', default='/usr/sbin/ip'),
            masters=dict(type='list', elements='str'),
        )),
    )


def main():
    module = new_module(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        preflight(module.params['persist'])
    except TaskError as exc:
        module.fail_json(msg=exc.msg, changed=False)

    def build_specs(params, world):
        owner = check_owner(params['owner'], 'owner')
        specs = [namespace_spec(entry, 'namespaces[%d].' % index, params['allow_port_change'], marker(owner))
                 for index, entry in enumerate(params['namespaces'])]
        _no_duplicates([spec.name for spec in specs], 'namespaces')
        if params['purge']:
            specs += purge_specs(world, specs, owner)
        return specs

    def returns(world, params):
        return {'marker': marker(params['owner']),
                'namespaces': {entry['name']: dict(exists=world.get(entry['name']).exists,
                                                   **namespace_view(world, world.get(entry['name']),
                                                                    kernel_routes=False))
                               for entry in params['namespaces']}}

    def boot_unit(result):
        if module.params['persist'] is None:
            return
        unit = BootUnit(module, module.params['persist'], module.params['namespaces'], result['marker'])
        try:
            unit.converge()
        finally:
            if unit.actions:
                result['changed'] = True
                result['actions'] = result['actions'] + unit.actions
            if unit.diff and module._diff:
                result['diff'] = [result['diff'], unit.diff]

    run_module(module, build_specs, returns, finish=boot_unit)


if __name__ == '__main__':
    main()
