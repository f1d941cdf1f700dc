# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A Graphviz DOT picture of a fleet, from the facts of its hosts and a ping matrix's cells.

Pure Python, no Ansible: the filter linuxnet.ipvlan.fleet_dot wraps it. Each host is a
cluster; its root namespace's ipvlan masters and slaves sit in it directly, each named
namespace is a cluster inside it. Node ids are generated (h1, h1n2, h1n2l3) so that no name
has to survive DOT's id syntax; names appear only in labels, escaped. The output depends only
on the input, never on the order of dicts or sets: everything is sorted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

RESULT_KEY = 'linuxnet_ipvlan'
# What a ping matrix cell can say (playbooks/ping_matrix.yml), and how it is drawn.
PING_STYLES = {
    'ok': {'color': 'darkgreen', 'fill': '#c8f0c8'},
    'FAIL': {'color': 'red', 'fill': '#ffb0b0'},
    'LEAK': {'color': 'darkorange', 'fill': '#ffd080'},
    'blocked': {'color': 'gray50', 'fill': '#e0e0e0'},
    'n/a': {'color': 'purple', 'fill': '#f0d0f0'},
}
PROBLEMS = ('FAIL', 'LEAK', 'n/a')
PING_EDGES = ('problems', 'all', 'none')
PING_FIELDS = ('src_host', 'src_netns', 'dst_host', 'dst_netns', 'address', 'result')
ROOT = ('root',)             # the key of a host's root namespace
UNNAMED = '<unnamed>'        # master_netns of a master in a namespace without a name (facts)


class FleetError(ValueError):
    """The input is not a fleet the picture can be drawn from; the text says which part."""


# --- escaping -----------------------------------------------------------------------

def quoted(text):
    """TEXT as a DOT double-quoted string whose escString shows it as is.

    A backslash is doubled (DOT would read \\N, \\G or \\l in a label as an escape), a double
    quote escaped, a newline drawn as a line break, other control characters shown as \\xNN.
    Any other Unicode character is written as it is (the document is UTF-8).
    """
    out = []
    for char in str(text):
        if char == '\\':
            out.append('\\\\')
        elif char == '"':
            out.append('\\"')
        elif char == '\n':
            out.append('\\n')
        elif ord(char) < 0x20 or ord(char) == 0x7f:
            out.append('\\\\x%02x' % ord(char))
        else:
            out.append(char)
    return '"%s"' % ''.join(out)


def label(*lines):
    """A quoted multi-line label: each line escaped on its own, joined with DOT's line break."""
    return '"%s"' % '\\n'.join(quoted(line)[1:-1] for line in lines)


# Graphviz expands \G, \N, \E, \H, \T and \L in an HTML-like label's text as in any label,
# after it decoded character references, and has no escape for a backslash there: a word joiner
# (U+2060, invisible and zero-width) after such a backslash keeps the text as it is.
_HTML_ESCAPED_LETTERS = 'GNEHTL'
_WORD_JOINER = '\u2060'


def html(text):
    """TEXT for an HTML-like label (the ping table)."""
    text = str(text)
    out = []
    for index, char in enumerate(text):
        if char in '&<>"':
            out.append({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[char])
        elif char == '\\' and text[index + 1:index + 2] in tuple(_HTML_ESCAPED_LETTERS):
            out.append(char + _WORD_JOINER)
        elif ord(char) < 0x20 or ord(char) == 0x7f:
            out.append('\\x%02x' % ord(char))
        else:
            out.append(char)
    return ''.join(out)


def attributes(**attrs):
    """[k=v, ...] for the attributes that are set, sorted; values already quoted or bare."""
    return '[%s]' % ', '.join('%s=%s' % (k, v) for k, v in sorted(attrs.items()) if v is not None)


# --- reading the input --------------------------------------------------------------

def _facts_of(host, value):
    """The facts data of HOST: linuxnet_ipvlan itself, or what holds it under that key (ansible_facts,
    the registered result of linuxnet.ipvlan.info), or under ansible_facts (a host's hostvars)."""
    if isinstance(value, Mapping) and 'namespaces' not in value and RESULT_KEY not in value:
        value = value.get('ansible_facts', value)
    if isinstance(value, Mapping) and RESULT_KEY in value:
        value = value[RESULT_KEY]
    if not isinstance(value, Mapping):
        raise FleetError('host %s: expected the facts of linuxnet.ipvlan.facts or .info (a mapping), got %s'
                         % (host, type(value).__name__))
    if not isinstance(value.get('namespaces'), Mapping):
        raise FleetError('host %s: no linuxnet.ipvlan facts (a mapping with "namespaces"): did linuxnet.ipvlan.facts '
                         'or .info read it?' % host)
    return value


def _links(host, where, namespace):
    if not isinstance(namespace, Mapping):
        raise FleetError('host %s, %s: expected a mapping with "links", got %s' % (host, where, type(namespace).__name__))
    links = namespace.get('links')
    links = {} if links is None else links
    if not isinstance(links, Mapping) or not all(isinstance(v, Mapping) for v in links.values()):
        raise FleetError('host %s, %s: "links" must map each link name to its facts' % (host, where))
    return {str(name): link for name, link in links.items()}


def _ns_sort_key(key):
    return (key != ROOT, key[0], key[1] if len(key) > 1 else '')


class Host:
    """One host: its namespaces (ROOT, ('named', name) or ('unnamed',)) and their links."""

    def __init__(self, name, facts):
        self.name = name
        self.namespaces = {}       # key -> {link name: facts}
        self.read = set()          # the keys that came from facts (the others hold masters only)
        self.absent = set()        # the keys of namespaces the facts say do not exist
        namespaces = facts.get('namespaces') or {}
        for ns_name in namespaces:
            key = ('named', str(ns_name))
            self.namespaces[key] = _links(name, 'namespace %s' % ns_name, namespaces[ns_name])
            self.read.add(key)
            if namespaces[ns_name].get('exists') is False:
                self.absent.add(key)
        if facts.get('root') is not None:
            self.namespaces[ROOT] = _links(name, 'the root namespace', facts['root'])
            self.read.add(ROOT)
        self.masters = self.find_masters()

    def slaves(self):
        """(namespace key, link name, ipvlan facts) of every ipvlan link, sorted."""
        for key in sorted(self.namespaces, key=_ns_sort_key):
            for link_name in sorted(self.namespaces[key]):
                ipvlan = self.namespaces[key][link_name].get('ipvlan')
                if isinstance(ipvlan, Mapping):
                    yield key, link_name, ipvlan

    def find_masters(self):
        """{(namespace key, slave name): (namespace key, master name)}.

        A master the facts did not read (the root namespace left out, say) is added, named as
        its slaves name it: the slaves that give its name are looked at first, so a slave that
        only knows its ifindex finds it under that name.
        """
        slaves = list(self.slaves())
        masters = {}
        for named in (True, False):
            for key, link_name, ipvlan in slaves:
                if (ipvlan.get('master') is not None) == named:
                    masters[(key, link_name)] = self._master_of(ipvlan)
        return masters

    def _master_of(self, ipvlan):
        netns = ipvlan.get('master_netns')
        key = ROOT if netns is None else ('unnamed',) if netns == UNNAMED else ('named', str(netns))
        links = self.namespaces.setdefault(key, {})
        name, ifindex = ipvlan.get('master'), ipvlan.get('master_ifindex')
        if name is not None and str(name) in links:
            return key, str(name)
        for link_name in sorted(links):
            if ifindex is not None and links[link_name].get('ifindex') == ifindex:
                return key, link_name
        link_name = str(name) if name is not None else 'ifindex %s' % ifindex
        links.setdefault(link_name, {'ifindex': ifindex, 'unread': True})
        return key, link_name


# --- drawing --------------------------------------------------------------------------

def _link_lines(link_name, link, role):
    lines = [link_name]
    ipvlan = link.get('ipvlan')
    if isinstance(ipvlan, Mapping):
        lines.append(' '.join(str(part) for part in ('ipvlan', ipvlan.get('mode'), ipvlan.get('flags')) if part))
    elif link.get('unread'):
        lines.append('master (not read)')
    else:
        kind = link.get('kind')
        lines.append(('%s master' % kind if kind else 'master') if role == 'master' else (kind or 'link'))
    if link.get('state') == 'down':
        lines[-1] += ', down'
    lines.extend(_shown_addresses(link))
    return lines


def _shown_addresses(link):
    """The addresses of LINK but its IPv6 link-local one (every IPv6 link has one), IPv4 first."""
    shown = []
    for address in link.get('addresses') or []:
        try:
            parsed = ipaddress.ip_interface(str(address))
        except ValueError:   # not an address: shown as it is
            parsed = None
        if parsed is None or not (parsed.version == 6 and parsed.ip.is_link_local):
            shown.append(str(address))
    return sorted(shown, key=lambda a: (':' in a, a))


def _ns_label(key):
    if key == ROOT:
        return 'root namespace'
    if key == ('unnamed',):
        return 'namespace without a name'
    return 'netns %s' % key[1]


class Picture:
    """The DOT document being written, and the node id of each thing drawn."""

    def __init__(self, hosts, pings, ping_edges, title):
        self.hosts = hosts
        self.pings = pings
        self.ping_edges = ping_edges
        self.title = title
        self.nodes = {}         # (host, ns key, link name) -> node id
        self.anchors = {}       # (host, ns key) -> (a node id inside its cluster, cluster id)
        self.addresses = {}     # (host, ns name, ip without prefix) -> node id
        self.lines = []

    def emit(self, depth, text):
        self.lines.append('  ' * depth + text)

    def document(self):
        self.emit(0, 'digraph fleet {')
        title = label(self.title) if self.title else None
        self.emit(1, 'graph %s;' % attributes(compound='true', rankdir='LR', fontname='"sans-serif"', label=title,
                                              labelloc='t'))
        self.emit(1, 'node %s;' % attributes(shape='box', style='"rounded,filled"', fillcolor='white',
                                             fontname='"sans-serif"', fontsize='10'))
        self.emit(1, 'edge %s;' % attributes(fontname='"sans-serif"', fontsize='9'))
        for index, host in enumerate(self.hosts, 1):
            self.draw_host('h%d' % index, host)
        for index, host in enumerate(self.hosts, 1):
            self.draw_slave_edges(host)
        if self.pings:
            self.draw_pings()
        self.emit(0, '}')
        return '\n'.join(self.lines) + '\n'

    def draw_host(self, host_id, host):
        masters = set(host.masters.values())
        # the root namespace holds every link of the host: only the ipvlan ones and their masters
        root = host.namespaces.get(ROOT, {})
        root_shown = [n for n in sorted(root) if (ROOT, n) in masters or 'ipvlan' in root[n]]
        others = [key for key in sorted(host.namespaces, key=_ns_sort_key) if key != ROOT]
        self.emit(1, 'subgraph cluster_%s {' % host_id)
        self.emit(2, 'graph %s;' % attributes(label=label(host.name), style='"rounded,bold"', color='gray30'))
        if not root_shown and not others:   # Graphviz leaves an empty cluster out: the host would vanish
            self.emit(2, '%sempty %s;' % (host_id, attributes(label=label('(no namespaces)'), shape='plaintext',
                                                              style='""')))
        self.draw_links(2, host, ROOT, '%sr' % host_id, root_shown, masters)
        for n_index, key in enumerate(others, 1):
            cluster = '%sn%d' % (host_id, n_index)
            self.emit(2, 'subgraph cluster_%s {' % cluster)
            unread = ' (does not exist)' if key in host.absent else '' if key in host.read else ' (not read)'
            self.emit(3, 'graph %s;' % attributes(label=label(_ns_label(key) + unread), style='"rounded,filled"',
                                                  fillcolor='"#eef3fb"', color='"#6a8cc7"'))
            shown = [n for n in sorted(host.namespaces[key]) if n != 'lo']
            if shown:
                self.draw_links(3, host, key, cluster, shown, masters)
            else:
                node = '%sempty' % cluster
                self.emit(3, '%s %s;' % (node, attributes(label=label('(no links)'), shape='plaintext',
                                                          style='""')))
                self.anchors[(host.name, key)] = (node, 'cluster_' + cluster)
            self.emit(2, '}')
        self.emit(1, '}')

    def draw_links(self, depth, host, key, prefix, names, masters):
        for l_index, link_name in enumerate(names, 1):
            node = '%sl%d' % (prefix, l_index)
            link = host.namespaces[key][link_name]
            is_master = (key, link_name) in masters
            role = 'master' if is_master else 'link'
            attrs = {'label': label(*_link_lines(link_name, link, role))}
            if is_master:
                attrs.update(style='"rounded,filled,bold"', fillcolor='"#fff2cc"')
            elif 'ipvlan' in link:
                attrs.update(fillcolor='"#dff0d8"')
            if link.get('state') == 'down':
                attrs.update(color='gray60', fontcolor='gray40')
            self.emit(depth, '%s %s;' % (node, attributes(**attrs)))
            self.nodes[(host.name, key, link_name)] = node
            self.anchors.setdefault((host.name, key), (node, 'cluster_' + prefix if key != ROOT else None))
            for address in _shown_addresses(link):
                ns_name = key[1] if key[0] == 'named' else None
                self.addresses.setdefault((host.name, ns_name, str(address).split('/', 1)[0]), node)

    def draw_slave_edges(self, host):
        for key, link_name, ipvlan in host.slaves():
            slave = self.nodes[(host.name, key, link_name)]
            master = self.nodes[(host.name,) + host.masters[(key, link_name)]]
            edge_label = ' '.join(str(p) for p in (ipvlan.get('mode'), ipvlan.get('flags')) if p)
            attrs = attributes(label=label(edge_label), color='gray30', arrowhead='empty')
            self.emit(1, '%s -> %s %s;' % (slave, master, attrs))

    def draw_pings(self):
        if self.ping_edges != 'none':
            for cell in self.pings:
                if self.ping_edges == 'all' or cell['result'] in PROBLEMS:
                    self.draw_ping_edge(cell)
        self.draw_ping_table()

    def draw_ping_edge(self, cell):
        source = self.anchors.get((cell['src_host'], ('named', cell['src_netns'])))
        target = self.addresses.get((cell['dst_host'], cell['dst_netns'], cell['address']))
        if target is None:
            anchor = self.anchors.get((cell['dst_host'], ('named', cell['dst_netns'])))
            target = anchor[0] if anchor else None
        if source is None or target is None:
            return   # a cell about a namespace the facts do not show: the table still has it
        style = PING_STYLES[cell['result']]
        self.emit(1, '%s -> %s %s;' % (source[0], target, attributes(
            label=label('ping %s %s' % (cell['address'], cell['result'])), color=style['color'],
            fontcolor=style['color'], style='dashed' if cell['result'] in ('ok', 'blocked') else 'bold',
            ltail=source[1] and '"%s"' % source[1])))

    def draw_ping_table(self):
        rows = sorted({(c['src_host'], c['src_netns']) for c in self.pings})
        cols = sorted({(c['dst_host'], c['dst_netns'], c['address']) for c in self.pings},
                      key=lambda c: (c[0], c[1], ':' in c[2], c[2]))
        results = {(c['src_host'], c['src_netns'], c['dst_host'], c['dst_netns'], c['address']): c['result']
                   for c in self.pings}
        cell = '<TD%s>%s</TD>'
        out = ['<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">',
               '<TR><TD COLSPAN="%d"><B>ping matrix</B> (row pings column)</TD></TR>' % (len(cols) + 1),
               '<TR><TD>from \\ to</TD>%s</TR>' % ''.join(
                   cell % ('', '%s/%s<BR/>%s' % (html(h), html(n), html(a))) for h, n, a in cols)]
        for src in rows:
            tds = [cell % ('', html('%s/%s' % src))]
            for col in cols:
                result = results.get(src + col)
                if result is None:
                    tds.append(cell % ('', '-' if src == col[:2] else ''))
                else:
                    tds.append(cell % (' BGCOLOR="%s"' % PING_STYLES[result]['fill'], html(result)))
            out.append('<TR>%s</TR>' % ''.join(tds))
        out.append('</TABLE>')
        self.emit(1, 'ping_matrix %s;' % attributes(shape='plaintext', style='""', label='<%s>' % ''.join(out)))


def _pings(pings):
    if pings is None:
        return []
    if isinstance(pings, (str, bytes, Mapping)) or not hasattr(pings, '__iter__'):
        raise FleetError('pings: expected a list of ping matrix cells, got %s' % type(pings).__name__)
    cells = []
    for index, cell in enumerate(pings):
        if not isinstance(cell, Mapping) or any(f not in cell for f in PING_FIELDS):
            raise FleetError('pings[%d]: expected a mapping with %s' % (index, ', '.join(PING_FIELDS)))
        result = cell['result']
        if isinstance(result, bool):
            result = 'ok' if result else 'FAIL'
        if result not in PING_STYLES:
            raise FleetError('pings[%d]: result must be one of %s or a boolean, got %r'
                             % (index, ', '.join(PING_STYLES), result))
        values = {f: str(cell[f]) for f in PING_FIELDS[:-1]}
        values['address'] = values['address'].split('/', 1)[0]
        cells.append(dict(values, result=result))
    return sorted(cells, key=lambda c: tuple(c[f] for f in PING_FIELDS))


def fleet_dot(fleet, pings=None, ping_edges='problems', title=None):
    """The DOT document of FLEET (host name -> its linuxnet.ipvlan facts) and PINGS (cells)."""
    if not isinstance(fleet, Mapping):
        raise FleetError('expected a mapping of host name to the facts of linuxnet.ipvlan.facts, got %s'
                         % type(fleet).__name__)
    if ping_edges not in PING_EDGES:
        raise FleetError('ping_edges must be one of %s, got %r' % (', '.join(PING_EDGES), ping_edges))
    hosts = [Host(str(name), _facts_of(name, fleet[name])) for name in sorted(fleet, key=str)]
    return Picture(hosts, _pings(pings), ping_edges, title).document()
