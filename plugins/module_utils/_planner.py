# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The planner: desired specs + current world -> an ordered list of actions.

Pure: it reads the world and never the kernel.  Each action is applied to a
copy of the world as soon as it is planned (``predict``), so later steps see
earlier ones (an address goes on the ipvlan planned just before) and the copy
ends as the after-state that diff mode renders.

Phases run over all specs in kernel order: namespaces, removals (namespaces,
then ipvlan slaves), ipvlans, links, addresses, routes.  What goes, goes
first: a slave being removed (or the namespace holding it) still holds its
addresses on the master's port and its share of the port's mode, so a slave
declared instead could otherwise neither take those addresses (EADDRINUSE)
nor another mode.  Links come up before addresses and routes: a route's
gateway must be reachable through an up link.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._actions import (
    AddAddress,
    AddRoute,
    CreateIpvlan,
    CreateNetns,
    DeleteAddress,
    DeleteLink,
    DeleteNetns,
    DeleteRoute,
    MoveLink,
    ReplaceRoute,
    SetIpvlanPort,
    SetLink,
)
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._kernel import PROTO_RA, REJECT_RTN_TYPES, SCOPES, TABLES
from ansible_collections.linuxnet.ipvlan.plugins.module_utils._model import (
    ROOT,
    Link,
    LinkSpec,
    Namespace,
    Route,
    display_name,
    is_netns_path,
    netns_label,
)


@dataclass
class Plan:
    actions: list
    before: object            # World as read
    after: object             # World as predicted
    scope: dict = field(default_factory=dict)   # netns -> Scope: what the diff shows
    warnings: list = field(default_factory=list)  # check mode's assumptions, said out loud

    @property
    def changed(self):
        return bool(self.actions)

    def describe(self):
        return [action.describe() for action in self.actions]


@dataclass
class Scope:
    links: set = field(default_factory=set)
    devs: set = field(default_factory=set)   # links whose addresses are managed
    routes: bool = False


def plan(specs, world, assume=False):
    """The actions that take WORLD to SPECS.

    ASSUME (check mode): a namespace, link or master that a spec needs but that is
    missing (or a master that is down) is taken as provided by an earlier task of the
    play, with a warning, instead of refusing: check mode then predicts the change the
    real run makes after that task.  A real run never assumes.
    """
    specs = [_keyed(spec, world) for spec in specs]
    validate(specs)
    _check_paths(specs, world)
    planner = _Planner(world, assume)
    for phase in (planner.namespaces, planner.removals, planner.ipvlan_removals, planner.ipvlans,
                  planner.links, planner.address_removals, planner.addresses, planner.routes):
        for spec in specs:
            phase(spec)
    return Plan(planner.actions, world, planner.after, planner.scope, planner.warnings)


def _keyed(spec, world):
    """SPEC with each namespace given by its key in WORLD: a path that reaches a named namespace
    (or the root one) is that namespace, and every reference to one namespace is one key."""
    return replace(spec, name=world.key(spec.name),
                   ipvlans=tuple(replace(i, master_netns=world.key(i.master_netns)) for i in spec.ipvlans))


def _check_paths(specs, world):
    """A path that is there but is no network namespace is a mistake, whatever the task asks."""
    for spec in specs:
        for param, ref in [('netns', spec.name)] + [('master_netns', i.master_netns) for i in spec.ipvlans]:
            leftover = world.get(ref).leftover if is_netns_path(ref) else None
            if leftover is not None:
                raise TaskError('%s: %s is %s, not a network namespace: give /proc/PID/ns/net of a process in it, '
                                'or a bind mount of that file' % (param, ref, leftover.what))


def validate(specs):
    """Conflicts between declared objects, refused before anything is read or changed."""
    ports = {}       # (master_netns, master) -> the first slave declared on it
    slave_port = {}  # (netns, slave) -> its port: ipvlan addresses are unique port-wide
    owners = {}      # (namespace or port, ip) -> (netns, dev, ip) that declared it first
    for spec in specs:
        _no_twice([i.name for i in spec.ipvlans], 'name', 'ipvlan', spec.name)
        for ipvlan in (i for i in spec.ipvlans if i.present):
            port = (ipvlan.master_netns, ipvlan.master)
            slave_port[(spec.name, ipvlan.name)] = port
            first = ports.setdefault(port, ipvlan)
            if (first.mode, first.flags) != (ipvlan.mode, ipvlan.flags):
                raise TaskError('mode: %s asks for mode %s %s and %s for mode %s %s, but both are slaves of %s in %s '
                                'and mode and flags belong to the master: declare one mode for all its slaves'
                                % (first.name, first.mode, first.flags, ipvlan.name, ipvlan.mode, ipvlan.flags,
                                   ipvlan.master, netns_label(ipvlan.master_netns)))
    for spec in specs:
        for wanted in (a for a in spec.addresses if a.present):
            where = slave_port.get((spec.name, wanted.dev), ('netns', spec.name))
            for ip in wanted.addresses:
                owner = (spec.name, wanted.dev, ip)
                other = owners.setdefault((where, ip.ip), owner)
                if other != owner:
                    raise TaskError('addresses: %s is declared for %s in %s and %s for %s in %s: an IP can be on one '
                                    'link of a namespace, or on one slave of an ipvlan master, with one prefix length'
                                    % (other[2], other[1], netns_label(other[0]), ip, wanted.dev,
                                       netns_label(spec.name)))


def _no_twice(names, param, what, netns):
    seen = set()
    for name in names:
        if name in seen:
            raise TaskError('%s: %s %s is declared twice in %s' % (param, what, name, netns_label(netns)))
        seen.add(name)


def port_of(link):
    return (link.master_netns, link.master_index)


class _Planner:
    def __init__(self, world, assume=False):
        self.after = world.copy()
        self.assume = assume
        self.actions = []
        self.scope = {}
        self.warnings = []
        self.put_back = {}   # (netns, dev) -> addresses a deleted IPv4 primary took with it
        self._assumed_ifindex = 0

    def missing(self, message, assumption=None):
        """A dependency is missing: refuse, or (check mode) assume an earlier task provides it."""
        if not self.assume:
            raise TaskError(message)
        self.warnings.append('%s (check mode assumes an earlier task of the play provides it)' % message)
        return assumption() if assumption is not None else None

    def assumed_link(self, netns, name, up):
        """A link that check mode takes as made by an earlier task: down, unless it must be up."""
        self._assumed_ifindex -= 1   # negative: never an ifindex the kernel gave
        link = Link(name, ifindex=self._assumed_ifindex, up=up)
        self.after.get(netns).links[name] = link
        return link

    def emit(self, action):
        self.actions.append(action)
        action.predict(self.after)

    def show(self, netns):
        return self.scope.setdefault(netns, Scope())

    # --- phase 1: namespaces ---------------------------------------------------------

    def namespaces(self, spec):
        self.show(spec.name)
        if spec.name is ROOT:
            return
        namespace = self.after.get(spec.name)
        if namespace.exists or spec.ensure == 'absent':
            return
        leftover = namespace.leftover
        if spec.ensure == 'present' and (leftover is None or leftover.repairable):
            self.emit(CreateNetns(spec.name, repair=leftover.what if leftover else None))
        elif spec.ensure == 'present':
            raise TaskError('name: /run/netns/%s is %s, not a network namespace; it is left alone: remove it '
                            '(linuxnet.ipvlan.netns state=absent removes any entry) or choose another name'
                            % (display_name(spec.name), leftover.what))
        elif not spec.only_removes:
            self.missing(_missing_netns('netns', spec.name, leftover),
                         lambda: self.after.namespaces.__setitem__(spec.name, Namespace.fresh(spec.name)))

    # --- phase 2: namespace removals, before anything is created -------------------

    def removals(self, spec):
        if spec.ensure != 'absent' or spec.name is ROOT:
            return
        namespace = self.after.get(spec.name)
        if namespace.exists:
            peers = tuple((netns, link.name, link.ifindex) for netns, link in self.after.veth_peers_in(spec.name))
            self.emit(DeleteNetns(spec.name, peers=peers))
        elif namespace.leftover is not None:
            self.emit(DeleteNetns(spec.name, leftover=namespace.leftover.what))

    # --- phase 3: ipvlan links, removals first ---------------------------------------

    def ipvlan_removals(self, spec):
        if spec.ensure == 'absent':
            return
        for ipvlan in spec.ipvlans:
            if not ipvlan.present:
                self.show(spec.name).links.add(ipvlan.name)
                self._ipvlan_absent(spec.name, ipvlan)

    def ipvlans(self, spec):
        if spec.ensure == 'absent':
            return
        for ipvlan in spec.ipvlans:
            if ipvlan.present:
                self.show(spec.name).links.add(ipvlan.name)
                self._ipvlan_present(spec.name, ipvlan)

    def _ipvlan_absent(self, netns, ipvlan):
        link = self.after.get(netns).links.get(ipvlan.name)
        if link is None:
            return
        if link.kind != 'ipvlan':
            raise TaskError('name: %s in %s is a %s link, not an ipvlan; it is left alone'
                            % (ipvlan.name, netns_label(netns), link.kind or 'plain'))
        self.emit(DeleteLink(netns, name=ipvlan.name))

    def _master(self, ipvlan):
        where = netns_label(ipvlan.master_netns)
        namespace = self.after.get(ipvlan.master_netns)
        if not namespace.exists:
            self.missing(_missing_netns('master_netns', ipvlan.master_netns, None),
                         lambda: self.after.namespaces.__setitem__(ipvlan.master_netns,
                                                                   Namespace.fresh(ipvlan.master_netns)))
            namespace = self.after.get(ipvlan.master_netns)
        master = namespace.links.get(ipvlan.master)
        if master is None:
            master = self.missing('master: link %s not found in %s' % (ipvlan.master, where),
                                  lambda: self.assumed_link(ipvlan.master_netns, ipvlan.master, up=True))
        if master.kind == 'ipvlan':
            raise TaskError('master: %s in %s is itself an ipvlan slave; the master must be the '
                            'underlying device' % (ipvlan.master, where))
        if ipvlan.mtu is not None and ipvlan.mtu > master.mtu:
            raise TaskError('mtu: %d is larger than the mtu of master %s (%d); an ipvlan slave cannot '
                            'exceed its master' % (ipvlan.mtu, ipvlan.master, master.mtu))
        return master

    def _ipvlan_present(self, netns, ipvlan):
        master = self._master(ipvlan)
        port = (ipvlan.master_netns, master.ifindex)
        current = self._find_or_move(netns, ipvlan, port)
        current = self._check_identity(netns, ipvlan, current, port)
        wanted = (ipvlan.mode, ipvlan.flags)
        if current is not None and (current.ipvlan_mode, current.ipvlan_flags) == wanted:
            return
        siblings = self._siblings(port, netns, ipvlan.name)
        port_mode = self._port_mode(siblings)
        if siblings and port_mode != wanted and not ipvlan.allow_port_change:
            raise TaskError(
                'mode: %s asks for mode %s %s, but its master %s already runs mode %s %s for %s; mode and '
                'flags belong to the master and would change for all of them. Use the same mode and flags, '
                'or set allow_port_change: true to change them all'
                % (ipvlan.name, ipvlan.mode, ipvlan.flags, ipvlan.master, port_mode[0], port_mode[1],
                   ', '.join('%s in %s' % (name, netns_label(ns)) for ns, name in siblings)))
        if current is None:
            # The kernel would accept it, but a slave on a down master carries no traffic: a
            # mistake worth stopping at.  Existing slaves are left alone when the master goes down.
            if not master.up:
                self.missing('master: %s in %s is down; bring it up first (linuxnet.ipvlan.link state=up)'
                             % (ipvlan.master, netns_label(ipvlan.master_netns)))
            self.emit(CreateIpvlan(netns, name=ipvlan.name, master=ipvlan.master, master_index=master.ifindex,
                                   master_netns=ipvlan.master_netns, mode=ipvlan.mode, flags=ipvlan.flags,
                                   mtu=ipvlan.mtu, master_mtu=master.mtu, mac=master.mac))
            if not siblings or port_mode == wanted:
                return
        for sibling_netns, sibling in siblings:
            self.show(sibling_netns).links.add(sibling)
        self.emit(SetIpvlanPort(netns, name=ipvlan.name, mode=ipvlan.mode, flags=ipvlan.flags,
                                port=port, siblings=tuple(siblings)))

    def _find_or_move(self, netns, ipvlan, port):
        """The link in its namespace; one left where the master is (the HOWTO's step b) is moved."""
        current = self.after.get(netns).links.get(ipvlan.name)
        if current is not None or netns == ipvlan.master_netns:
            return current
        stray = self.after.get(ipvlan.master_netns).links.get(ipvlan.name)
        if stray is not None and stray.kind == 'ipvlan' and port_of(stray) == port:
            self.show(ipvlan.master_netns).links.add(ipvlan.name)
            self.emit(MoveLink(ipvlan.master_netns, name=ipvlan.name, to_netns=netns))
            return self.after.get(netns).links[ipvlan.name]
        return None

    def _check_identity(self, netns, ipvlan, current, port):
        """Another kind or another master cannot be changed in place: recreate or fail."""
        if current is None:
            return None
        if current.kind != 'ipvlan':
            problem = 'is a %s link, not an ipvlan' % (current.kind or 'plain')
        elif port_of(current) != port:
            problem = 'has another master (%s)' % self._master_name(current)
        else:
            return current
        if not ipvlan.recreate:
            raise TaskError('name: %s in %s %s; set recreate: true to delete and recreate it'
                            % (ipvlan.name, netns_label(netns), problem))
        self.emit(DeleteLink(netns, name=ipvlan.name))
        return None

    def _master_name(self, link):
        master = self.after.master_of(link)
        if master is not None:
            return '%s in %s' % (master.name, netns_label(link.master_netns))
        return 'ifindex %s in %s' % (link.master_index, netns_label(link.master_netns))

    def _siblings(self, port, netns, name):
        return [(ns.name, link.name) for ns in self.after.all() for link in ns.links.values()
                if link.kind == 'ipvlan' and port_of(link) == port and (ns.name, link.name) != (netns, name)]

    def _port_mode(self, siblings):
        if not siblings:
            return None
        ns, name = siblings[0]
        link = self.after.get(ns).links[name]
        return (link.ipvlan_mode, link.ipvlan_flags)

    # --- phase 4: admin state, mtu, marker ------------------------------------------

    def links(self, spec):
        if spec.ensure == 'absent':
            return
        wanted = list(spec.links)
        wanted += [LinkSpec(i.name, up=i.up, mtu=i.mtu, alias=i.marker)
                   for i in spec.ipvlans if i.present]
        namespace = self.after.get(spec.name)
        for link_spec in wanted:
            self.show(spec.name).links.add(link_spec.name)
            link = namespace.links.get(link_spec.name)
            if link is None and link_spec.move:
                link = self._move_in(spec.name, link_spec.name)
            if link is None:
                link = self.missing('name: link %s not found in %s%s' % (
                    link_spec.name, netns_label(spec.name), ' nor in the root namespace' if link_spec.move else ''),
                    lambda: self.assumed_link(spec.name, link_spec.name, up=False))
            self._check_mtu_range(link, link_spec.mtu)
            changes = dict(
                up=link_spec.up if link_spec.up is not None and link_spec.up != link.up else None,
                mtu=link_spec.mtu if link_spec.mtu is not None and link_spec.mtu != link.mtu else None,
                alias=link_spec.alias if link_spec.alias is not None and link_spec.alias != link.alias else None)
            if any(value is not None for value in changes.values()):
                self.emit(SetLink(spec.name, name=link_spec.name, **changes))

    def _move_in(self, netns, name):
        """A link wanted in NETNS that is still in the root namespace: moved there (arriving down)."""
        if name not in self.after.get(ROOT).links:
            return None
        self.show(ROOT).links.add(name)
        self.emit(MoveLink(ROOT, name=name, to_netns=netns))
        return self.after.get(netns).links[name]

    @staticmethod
    def _check_mtu_range(link, mtu):
        if mtu is None:
            return
        low, high = link.min_mtu, link.max_mtu
        if (low and mtu < low) or (high and mtu > high):
            raise TaskError('mtu: %d is out of range for %s (%s to %s)' % (mtu, link.name, low, high))

    # --- phase 5: addresses, every spec's deletions before any addition -------------
    # An address can move between two slaves of one master, which the kernel
    # never lets both hold (EADDRINUSE), whatever the order of the specs.

    def address_removals(self, spec):
        if spec.ensure == 'absent':
            return
        namespace = self.after.get(spec.name)
        for wanted in spec.addresses:
            self.show(spec.name).devs.add(wanted.dev)
            if wanted.dev not in namespace.links:
                if not wanted.present:
                    continue   # nothing to remove from a link that is not there
                self.missing('dev: link %s not found in %s' % (wanted.dev, netns_label(spec.name)),
                             lambda: self.assumed_link(spec.name, wanted.dev, up=False))
            current = namespace.addresses_of(wanted.dev)
            doomed = [a for a in current if _unwanted(a, wanted)]
            self.put_back.setdefault((spec.name, wanted.dev), []).extend(
                self._delete_addresses(spec.name, current, doomed))

    def addresses(self, spec):
        if spec.ensure == 'absent':
            return
        for wanted in spec.addresses:
            put_back = self.put_back.pop((spec.name, wanted.dev), [])
            present = {a.ip for a in self.after.get(spec.name).addresses_of(wanted.dev)}
            listed = list(wanted.addresses) if wanted.present else []
            for ip in listed + [ip for ip in put_back if ip not in listed]:
                if ip not in present:
                    self._check_port_unique(spec.name, wanted.dev, ip)
                    self.emit(AddAddress(spec.name, dev=wanted.dev, ip=ip, nodad=wanted.nodad))
                    present.add(ip)
            self._warn_dad_failed(spec.name, wanted.dev, listed)

    def _warn_dad_failed(self, netns, dev, listed):
        """An IPv6 address that failed duplicate address detection stays listed but is never used."""
        for address in self.after.get(netns).addresses_of(dev):
            if address.dadfailed and address.ip in listed:
                self.warnings.append(
                    'addresses: %s on %s in %s failed duplicate address detection: another node on the link has '
                    'it, and the kernel does not use it. Resolve the duplicate, then remove the address and add it '
                    'again' % (address.ip, dev, netns_label(netns)))

    def _check_port_unique(self, netns, dev, ip):
        """ipvlan delivers by destination address: the kernel refuses one IP on two slaves of a master."""
        link = self.after.get(netns).links.get(dev)
        if link is None or link.kind != 'ipvlan':
            return
        for sibling_netns, sibling in self._siblings(port_of(link), netns, dev):
            if any(a.ip.ip == ip.ip for a in self.after.get(sibling_netns).addresses_of(sibling)):
                raise TaskError('addresses: %s is already on %s in %s, another slave of the same master; an ipvlan '
                                'master delivers by destination address, so an IP can be on one of its slaves only'
                                % (ip.ip, sibling, netns_label(sibling_netns)))

    def _delete_addresses(self, netns, current, doomed):
        """Delete DOOMED; return the IPs to put back.

        Deleting a primary IPv4 address deletes its secondaries (or promotes one,
        with promote_secondaries=1): secondaries go first, either way, and those
        that were to stay are put back afterwards.
        """
        primaries = {a.ip.network for a in doomed if a.ip.version == 4 and not a.secondary}
        kept = [a for a in current if a.secondary and a.ip.network in primaries and a not in doomed]
        for address in [a for a in current if a.secondary and (a in doomed or a in kept)] + \
                [a for a in doomed if not a.secondary]:
            self.emit(DeleteAddress(netns, dev=address.dev, ip=address.ip))
        return [a.ip for a in kept]

    # --- phase 6: routes -------------------------------------------------------------

    def routes(self, spec):
        if spec.ensure == 'absent':
            return
        namespace = self.after.get(spec.name)
        if spec.routes or spec.purge_routes:
            self.show(spec.name).routes = True
        kept = []   # what the declared routes are, as the kernel holds them: purge leaves these
        for wanted in spec.routes:
            if not self._route_devs(spec.name, namespace, wanted):
                continue
            route = wanted.route
            same_key = [r for r in namespace.routes if r.key == route.key]
            if not wanted.present:
                for current in same_key:
                    if _matches(current, route):
                        self.emit(DeleteRoute(spec.name, route=current))
                continue
            satisfied = next((r for r in same_key if _satisfies(r, route)), None)
            if satisfied is not None:
                if route.family == 4:
                    # IPv4 uses the first route of a key (ip route append adds more): those ahead go.
                    for ahead in same_key[:same_key.index(satisfied)]:
                        self.emit(DeleteRoute(spec.name, route=ahead))
                kept.append(satisfied)
                continue
            route = self._as_stored(spec.name, namespace, route)
            current = _replaced(same_key, route)
            if current is not None:
                self.emit(ReplaceRoute(spec.name, old=current, route=route))
            else:
                self.emit(AddRoute(spec.name, route=route))
            kept.append(route)
        if spec.purge_routes:
            # Exactly these routes: the kernel's own (an address's prefix route) are not the task's.
            for current in list(namespace.routes):
                if not current.kernel and current not in kept:
                    self.emit(DeleteRoute(spec.name, route=current))

    def _route_devs(self, netns, namespace, wanted):
        """Do the devices of a declared route exist?  A route to remove through a missing one is gone."""
        for dev in [hop.dev for hop in wanted.route.paths if hop.dev and hop.dev not in namespace.links]:
            if not wanted.present:
                return False   # the kernel flushed every route through it
            self.missing('dev: link %s not found in %s' % (dev, netns_label(netns)),
                         lambda dev=dev: self.assumed_link(netns, dev, up=True))
        return True

    def _as_stored(self, netns, namespace, route):
        """ROUTE as the kernel will hold it: with the device it picks for each next hop."""
        for dev in [hop.dev for hop in route.paths if hop.dev]:
            if not namespace.links[dev].up:
                self.missing('dev: %s in %s is down; the kernel refuses a route through a link that is down '
                             '(ENETDOWN): bring it up first' % (dev, netns_label(netns)))
        if route.family == 6 and route.type in REJECT_RTN_TYPES:
            return replace(route, dev='lo')   # ip6_route_info_create puts reject routes on lo
        try:
            if route.nexthops:
                stored = replace(route, nexthops=tuple(
                    replace(hop, dev=_gateway_dev(namespace, hop.gateway, hop.dev, hop.onlink, netns, route.table))
                    for hop in route.nexthops))
                _check_paths_differ(stored, netns)
                return stored
            dev = _gateway_dev(namespace, route.gateway, route.dev, route.onlink, netns, route.table)
            return replace(route, dev=dev)
        except KernelRefusal:
            raise
        except TaskError as exc:
            self.missing(exc.msg)
            return route


def _missing_netns(param, ref, leftover):
    if is_netns_path(ref):
        return ('%s: %s does not exist: a namespace given by path belongs to the process or container runtime that '
                'holds it, and is never created here; start that first' % (param, ref))
    return ('%s: namespace %s does not exist%s; create it first (linuxnet.ipvlan.netns)'
            % (param, display_name(ref), ' (/run/netns holds %s there)' % leftover.what if leftover else ''))


def _unwanted(address, wanted):
    """Is ADDRESS to go: listed for removal, listed with another prefix length, or purged?"""
    listed_ips = [ip for ip in wanted.addresses if ip.ip == address.ip.ip]
    if not wanted.present:
        return bool(listed_ips)
    prefix_changed = listed_ips and address.ip not in listed_ips
    unlisted = not listed_ips and wanted.purge and not address.link_local
    return bool(prefix_changed or unlisted)


def _satisfies(current, wanted):
    """Does the kernel's route do what was asked?  Any proto will do; an unset dev means 'any'."""
    return (current.type == wanted.type and current.scope == wanted.scope
            and _same_paths(current.paths, wanted.paths))


def _same_paths(current, wanted):
    """The same next hops, in any order (a wanted one without dev takes any device)."""
    if len(current) != len(wanted):
        return False
    left = list(current)
    for hop in sorted(wanted, key=lambda h: h.dev is None):   # the ones naming a dev pick first
        match = next((c for c in left if (c.gateway, c.weight, c.onlink) == (hop.gateway, hop.weight, hop.onlink)
                      and hop.dev in (None, c.dev)), None)
        if match is None:
            return False
        left.remove(match)
    return True


def _matches(current, pattern):
    """Is CURRENT the route to remove?  Type, gateway, dev and nexthops count when they are given:
    a gateway or dev names a single-path route, nexthops the paths of a multipath one."""
    if pattern.type not in (None, current.type):
        return False
    if pattern.nexthops:
        return _same_paths(current.paths, pattern.paths)
    if pattern.gateway is None and pattern.dev is None:
        return True
    return (not current.nexthops and pattern.gateway in (None, current.gateway)
            and pattern.dev in (None, current.dev))


def _replaced(same_key, route):
    """The route a replace overwrites, None when there is none: for IPv4 the first of the key
    (fib_table_insert, NLM_F_REPLACE: fa_first); for IPv6 the first that can be a multipath sibling
    exactly when ROUTE can, else the first (fib6_add_rt2node, rt6_qualify_for_ecmp)."""
    if route.family == 6:
        for current in same_key:
            if _ecmp_able(current) == _ecmp_able(route):
                return current
    return same_key[0] if same_key else None


def _ecmp_able(route):
    return (route.type == 'unicast' and route.proto != PROTO_RA
            and all(hop.gateway is not None for hop in route.paths))


class KernelRefusal(TaskError):
    """A next hop the kernel refuses whatever an earlier task of the play does: check mode refuses it too."""


def _local_gateway(namespace, gateway, onlink):
    """Is the gateway an address the kernel delivers locally, where it refuses one?

    IPv6 refuses any of the namespace's own addresses ("Gateway can not be a local address").
    IPv4 refuses them only for an onlink next hop ("Nexthop has invalid gateway"; without onlink
    it takes them), and lo's addresses make their whole prefix local.
    """
    if gateway is None or (gateway.version == 4 and not onlink):
        return False
    addresses = [a for a in namespace.addresses if a.ip.version == gateway.version]
    if any(a.ip.ip == gateway for a in addresses):
        return True
    return gateway.version == 4 and (gateway.is_loopback or
                                     any(a.dev == 'lo' and gateway in a.ip.network for a in addresses))


def _check_paths_differ(route, netns):
    """Two paths the parameters told apart (one without dev) can reach one gateway through the device
    the kernel picks: an IPv6 route cannot have that path twice (see Route.repeated_path)."""
    repeated = route.repeated_path()
    if repeated:
        first, again = repeated
        hop = route.nexthops[again]
        raise TaskError('nexthops: nexthops[%d] reaches gateway %s through %s in %s, the path of nexthops[%d]; %s'
                        % (again, hop.gateway, hop.dev, netns_label(netns), first, Route.REPEATED_PATH_HINT))


def _ipv6_lookup(namespace, gateway, dev):
    """(route, path) that the kernel's lookup of an IPv6 GATEWAY in the main table finds, or None
    (fib6_table_lookup, rt6_select): the longest prefix, then the lowest metric, then a path through
    DEV (the output device scores) before the first; a multipath route's path through a link that
    is down is dead and skipped (a single-path route goes with its link)."""
    found = [(route, path) for route in namespace.routes
             if route.family == 6 and route.table == TABLES['main'] and gateway in route.dst
             for path in route.paths
             if not (route.nexthops and path.dev in namespace.links and not namespace.links[path.dev].up)]
    if not found:
        return None
    best = min((-route.dst.prefixlen, route.metric) for route, _path in found)
    found = [(route, path) for route, path in found if (-route.dst.prefixlen, route.metric) == best]
    return next(((route, path) for route, path in found if path.dev == dev), found[0])


def _check_ipv6_onlink(namespace, gateway, dev, netns):
    """ip6_route_check_nh_onlink: the kernel looks an IPv6 onlink gateway (not a link-local one) up
    in the main table (whatever the route's table; a VRF's device would use the VRF's, which is not
    modelled) and refuses it (EINVAL, "Nexthop has invalid gateway or device mismatch") when what
    it finds is a route to a real prefix (not a reject route, not ::/N as a default route is) that
    is not a unicast route through DEV.  (A 2026 net-next patch, "ipv6: Allow for nexthop device
    mismatch with onlink", keeps only the unicast part; Linux 6.18, as on the test host, refuses.)"""
    found = _ipv6_lookup(namespace, gateway, dev)
    if found is None:
        return
    route, path = found
    if route.type in REJECT_RTN_TYPES or int(route.dst.network_address) == 0:
        return
    if route.type != 'unicast' or path.dev != dev:
        what = 'a %s route' % route.type if route.type != 'unicast' else 'a route through %s, not %s' % (path.dev, dev)
        raise TaskError('gateway: %s is covered in %s by %s, which the kernel finds for it in the main table: %s; '
                        'the kernel takes an IPv6 onlink gateway only where what it finds is a unicast route through '
                        'the same device, a default route or a reject route (EINVAL, "Nexthop has invalid gateway or '
                        'device mismatch")'
                        % (gateway, netns_label(netns), route.render(), what))


def _gateway_dev(namespace, gateway, dev, onlink, netns, table):
    """The device through which the kernel reaches a next hop's gateway.

    The kernel looks the gateway up (fib_check_nh_v4_gw: a unicast route of scope link or
    host; ip6_route_check_nh) and refuses one it cannot reach (ENETUNREACH): say so before trying.
    It looks in the new route's own TABLE, then through the policy rules, which reach the local,
    main and default tables unless someone added rules (not read here): a route in another table
    reaches nothing.  An IPv6 gateway is never reached through lo (EHOSTUNREACH), whatever
    address lo holds.
    """
    tables = {table, TABLES['local'], TABLES['main'], TABLES['default']}
    if gateway is not None and gateway.version == 6 and dev == 'lo':
        # ip6_validate_gw: "Egress device can not be loopback device for this route"
        raise KernelRefusal('dev: the kernel refuses an IPv6 route with a gateway (%s) through the loopback '
                            'device lo' % gateway)
    if _local_gateway(namespace, gateway, onlink):
        raise KernelRefusal('gateway: %s is local in %s (one of its addresses%s); the kernel refuses it as %s'
                            % (gateway, netns_label(netns),
                               '' if gateway.version == 6 else ', or in the prefix of an address on lo',
                               'a gateway' if gateway.version == 6 else 'an onlink gateway'))
    if gateway is not None and gateway.version == 4 and onlink and not namespace.ipv4_local_table:
        # fib_check_nh_v4_gw: an onlink gateway must be unicast in the local table, which the
        # kernel makes with the namespace's first IPv4 address ("Nexthop has invalid gateway").
        raise TaskError('gateway: %s is not reachable in %s as an onlink gateway until the namespace has had an '
                        'IPv4 address (the kernel refuses it: "Nexthop has invalid gateway"); add one first '
                        '(bringing lo up gives it 127.0.0.1)' % (gateway, netns_label(netns)))
    if gateway is not None and gateway.version == 6 and onlink and not gateway.is_link_local:
        _check_ipv6_onlink(namespace, gateway, dev, netns)
    if gateway is None or onlink or (gateway.version == 6 and gateway.is_link_local):
        return dev
    for address in namespace.addresses:
        link = namespace.links.get(address.dev)
        if (link is not None and link.up and dev in (None, address.dev)
                and not (gateway.version == 6 and address.dev == 'lo')
                and address.ip.version == gateway.version and gateway in address.ip.network):
            return address.dev
    for other in namespace.routes:
        if (other.type == 'unicast' and other.gateway is None and other.dev and not other.nexthops
                and other.table in tables and not (gateway.version == 6 and other.dev == 'lo')
                and other.family == gateway.version and (other.family == 6 or other.scope >= SCOPES['link'])
                and gateway in other.dst and dev in (None, other.dev)):
            link = namespace.links.get(other.dev)
            if link is not None and not link.up:
                # An IPv4 route of scope host stays when its link goes down: the kernel finds it, then ENETDOWN.
                raise TaskError('gateway: %s is reached through %s in %s, which is down; the kernel refuses a route '
                                'through a link that is down (ENETDOWN): bring it up first'
                                % (gateway, other.dev, netns_label(netns)))
            return other.dev
    raise TaskError('gateway: %s is not reachable in %s: no address on an up link%s covers it; add an '
                    'address in its subnet first, or set onlink: true'
                    % (gateway, netns_label(netns), ' (%s)' % dev if dev else ''))
