# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet_dot filter: a known fleet drawn, checked in the DOT text and as Graphviz renders it.

Two hosts: vm1 read with its root namespace (the master ens4 with its address), a router
namespace whose l3 private slave hangs off a master in another namespace, and an empty
namespace; vm2 read without its root namespace (its master is drawn from what the slaves say),
an l3s vepa slave, and a namespace whose name holds a quote, a backslash, \\N and Unicode.
The ping matrix has ok, blocked and failed cells.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.linuxnet.ipvlan.plugins.filter.fleet_dot import FilterModule
from ansible_collections.linuxnet.ipvlan.plugins.plugin_utils._fleet_dot import FleetError, fleet_dot, label, quoted

ODD_NS = 'ns "ü" \\N\\'


def slave(mode, flags, master, ifindex, addresses, master_netns=None, state='up'):
    return {'ifindex': 10 + ifindex, 'kind': 'ipvlan', 'state': state, 'addresses': addresses,
            'ipvlan': {'mode': mode, 'flags': flags, 'master': master, 'master_ifindex': ifindex,
                       'master_netns': master_netns}}


LO = {'ifindex': 1, 'kind': None, 'state': 'up', 'addresses': ['127.0.0.1/8', '::1/128']}

FLEET = {
    'vm1': {'namespaces': {
        'ns0': {'exists': True, 'links': {'lo': LO, 'ipvl0': slave(
            'l2', 'bridge', 'ens4', 3, ['198.51.100.11/24', 'fe80::1/64', '2001:db8::11/64'])}},
        'ns1': {'exists': True, 'links': {'lo': LO, 'ipvl1': slave('l2', 'bridge', 'ens4', 3, ['198.51.100.12/24'])}},
        'underlay': {'exists': True, 'links': {'lo': LO, 'eth9': {'ifindex': 7, 'kind': 'veth', 'state': 'up',
                                                                  'addresses': ['203.0.113.1/24']}}},
        'router': {'exists': True, 'links': {'lo': LO, 'ipvl9': slave(
            'l3', 'private', 'eth9', 7, ['203.0.113.9/24'], master_netns='underlay')}},
        'empty': {'exists': True, 'links': {'lo': LO}},
    }, 'root': {'links': {
        'lo': LO, 'ens3': {'ifindex': 2, 'kind': None, 'addresses': ['10.0.2.15/24']},
        'ens4': {'ifindex': 3, 'kind': None, 'state': 'up', 'addresses': ['198.51.100.1/24', '2001:db8::1/64']},
    }}},
    # as linuxnet.ipvlan.info registers it, gathered with include_root=false
    'vm2': {'linuxnet_ipvlan': {'namespaces': {
        'ns0': {'links': {'ipvl0': slave('l3s', 'vepa', 'ens4', 3, ['198.51.100.21/24', '2001:db8::21/64'])}},
        ODD_NS: {'links': {'ipvl1': slave('l3s', 'vepa', None, 3, ['198.51.100.22/24'], state='down')}},
    }}},
}


def cell(src_host, src_netns, dst_host, dst_netns, address, result):
    return {'src_host': src_host, 'src_netns': src_netns, 'dst_host': dst_host, 'dst_netns': dst_netns,
            'address': address, 'result': result}


PINGS = [
    cell('vm1', 'ns0', 'vm1', 'ns1', '198.51.100.12', 'ok'),
    cell('vm1', 'ns0', 'vm2', 'ns0', '198.51.100.21', 'ok'),
    cell('vm1', 'ns0', 'vm2', 'ns0', '2001:db8::21', 'FAIL'),
    cell('vm2', 'ns0', 'vm2', ODD_NS, '198.51.100.22', 'blocked'),
    cell('vm2', ODD_NS, 'vm1', 'ns0', '198.51.100.11', True),
]


# --- a reader for the DOT this filter writes (one statement a line) -----------------------

ATTRIBUTE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|<.*>|[^,\]]+)')
STATEMENT = re.compile(r'^\s*(?:(?P<sub>subgraph (?P<cluster>\w+) \{)|(?P<end>\})|'
                       r'(?P<tail>\w+)(?: -> (?P<head>\w+))? (?P<attrs>\[.*\]);)$')


def unquote(value):
    if not value.startswith('"'):
        return value
    return re.sub(r'\\(.)', lambda m: {'n': '\n'}.get(m.group(1), m.group(1)), value[1:-1])


def parse(text):
    """{'clusters': {id: (label, parent id)}, 'nodes': {id: (label lines, cluster id)}, 'edges': [(tail, head, attrs)]}."""
    lines = text.splitlines()
    assert lines[0] == 'digraph fleet {' and lines[-1] == '}', text
    clusters, nodes, edges, stack = {}, {}, [], [None]
    for line in lines[1:-1]:
        match = STATEMENT.match(line)
        assert match, 'not a statement of this writer: %r' % line
        if match['sub']:
            clusters[match['cluster']] = [None, stack[-1]]
            stack.append(match['cluster'])
            continue
        if match['end']:
            stack.pop()
            continue
        attrs = {k: unquote(v) for k, v in ATTRIBUTE.findall(match['attrs'])}
        if match['head']:
            edges.append((match['tail'], match['head'], attrs))
        elif match['tail'] == 'graph' and stack[-1]:
            clusters[stack[-1]][0] = attrs['label']
        elif match['tail'] not in ('graph', 'node', 'edge'):
            nodes[match['tail']] = (attrs['label'].split('\n'), stack[-1], attrs)
    assert stack == [None], 'unbalanced braces'
    return {'clusters': {k: tuple(v) for k, v in clusters.items()}, 'nodes': nodes, 'edges': edges}


def cluster_path(picture, cluster):
    path = []
    while cluster is not None:
        name, cluster = picture['clusters'][cluster]
        path.insert(0, name)
    return tuple(path)


def where(picture):
    """Each link node as (host, namespace label or None) -> its label lines."""
    found = {}
    for node, (lines, cluster, _attrs) in picture['nodes'].items():
        if node != 'ping_matrix':
            path = cluster_path(picture, cluster)
            found[(path[0], path[1] if len(path) > 1 else None, lines[0])] = (node, lines)
    return found


def edges_by_name(picture):
    names = {node: where_key for where_key, (node, _lines) in where(picture).items()}
    return [(names[tail], names[head], attrs['label']) for tail, head, attrs in picture['edges']]


# --- the known fleet -------------------------------------------------------------------

def test_hosts_namespaces_links_and_addresses():
    picture = parse(fleet_dot(FLEET, PINGS, title='the "lab"'))
    nodes = {key: lines for key, (_node, lines) in where(picture).items()}
    assert nodes == {
        ('vm1', None, 'ens4'): ['ens4', 'master', '198.51.100.1/24', '2001:db8::1/64'],
        ('vm1', 'netns empty', '(no links)'): ['(no links)'],
        ('vm1', 'netns ns0', 'ipvl0'): ['ipvl0', 'ipvlan l2 bridge', '198.51.100.11/24', '2001:db8::11/64'],
        ('vm1', 'netns ns1', 'ipvl1'): ['ipvl1', 'ipvlan l2 bridge', '198.51.100.12/24'],
        ('vm1', 'netns router', 'ipvl9'): ['ipvl9', 'ipvlan l3 private', '203.0.113.9/24'],
        ('vm1', 'netns underlay', 'eth9'): ['eth9', 'veth master', '203.0.113.1/24'],
        ('vm2', None, 'ens4'): ['ens4', 'master (not read)'],
        ('vm2', 'netns ns0', 'ipvl0'): ['ipvl0', 'ipvlan l3s vepa', '198.51.100.21/24', '2001:db8::21/64'],
        ('vm2', 'netns ' + ODD_NS, 'ipvl1'): ['ipvl1', 'ipvlan l3s vepa, down', '198.51.100.22/24'],
    }, 'lo, the root namespace\'s other links and link-local addresses are left out'
    masters = {key for key, (node, _l) in where(picture).items() if 'bold' in picture['nodes'][node][2].get('style', '')}
    assert masters == {('vm1', None, 'ens4'), ('vm1', 'netns underlay', 'eth9'), ('vm2', None, 'ens4')}


def test_slave_to_master_edges():
    picture = parse(fleet_dot(FLEET))
    assert sorted(edges_by_name(picture)) == [
        (('vm1', 'netns ns0', 'ipvl0'), ('vm1', None, 'ens4'), 'l2 bridge'),
        (('vm1', 'netns ns1', 'ipvl1'), ('vm1', None, 'ens4'), 'l2 bridge'),
        (('vm1', 'netns router', 'ipvl9'), ('vm1', 'netns underlay', 'eth9'), 'l3 private'),
        (('vm2', 'netns ' + ODD_NS, 'ipvl1'), ('vm2', None, 'ens4'), 'l3s vepa'),
        (('vm2', 'netns ns0', 'ipvl0'), ('vm2', None, 'ens4'), 'l3s vepa'),
    ]
    assert 'ping_matrix' not in picture['nodes']


@pytest.mark.parametrize('ping_edges, shown', [
    ('problems', ['2001:db8::21 FAIL']),
    ('all', ['198.51.100.11 ok', '198.51.100.12 ok', '198.51.100.21 ok', '198.51.100.22 blocked',
             '2001:db8::21 FAIL']),
    ('none', []),
])
def test_ping_edges_go_from_the_namespace_to_the_address(ping_edges, shown):
    picture = parse(fleet_dot(FLEET, PINGS, ping_edges=ping_edges))
    pings = sorted((tail, head, text) for tail, head, text in edges_by_name(picture) if text.startswith('ping '))
    assert [text[len('ping '):] for _t, _h, text in sorted(pings, key=lambda p: p[2])] == shown
    for tail, head, text in pings:
        address = text.split()[1]
        source = next(c for c in PINGS if c['address'] == address)
        assert tail[:2] == (source['src_host'], 'netns ' + source['src_netns'])
        assert any(line.split('/')[0] == address for line in where(picture)[head][1])
    failed = next(attrs for _t, _h, attrs in picture['edges'] if attrs['label'] == 'ping 2001:db8::21 FAIL') \
        if shown else None
    assert failed is None or (failed['color'] == 'red' and failed['ltail'].startswith('cluster_'))


def test_ping_table_has_every_cell():
    table = parse(fleet_dot(FLEET, PINGS))['nodes']['ping_matrix'][2]['label']
    rows = re.findall(r'<TR>(.*?)</TR>', table)
    cells = [re.findall(r'<TD[^>]*>(.*?)</TD>', row) for row in rows[1:]]
    odd = 'vm2/ns &quot;ü&quot; \\\u2060N\\'
    assert cells[0][1:] == ['vm1/ns0<BR/>198.51.100.11', 'vm1/ns1<BR/>198.51.100.12', odd + '<BR/>198.51.100.22',
                            'vm2/ns0<BR/>198.51.100.21', 'vm2/ns0<BR/>2001:db8::21']
    assert cells[1:] == [
        ['vm1/ns0', '-', 'ok', '', 'ok', 'FAIL'],
        [odd, 'ok', '', '-', '', ''],
        ['vm2/ns0', '', '', 'blocked', '-', '-'],
    ]


def test_same_fleet_same_text_whatever_the_order():
    expected = fleet_dot(FLEET, PINGS)
    shuffler = random.Random(13)
    for _attempt in range(5):
        def shuffled(value):
            if isinstance(value, dict):
                items = list(value.items())
                shuffler.shuffle(items)
                return {k: shuffled(v) for k, v in items}
            if isinstance(value, list) and all(isinstance(v, dict) for v in value):
                return shuffler.sample([shuffled(v) for v in value], len(value))
            return value
        assert fleet_dot(shuffled(FLEET), shuffled(PINGS)) == expected


# --- Graphviz reads it as written ------------------------------------------------------------

def render_json(text):
    dot = shutil.which('dot')
    assert dot, "Graphviz's dot is missing: run 'make setup' (it installs the graphviz package)"
    proc = subprocess.run([dot, '-Tjson'], input=text.encode('utf-8'), capture_output=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def drawn_text(obj):
    return [op['text'] for op in obj.get('_ldraw_', []) if op['op'] == 'T']


def test_graphviz_draws_the_same_nodes_edges_and_names():
    text = fleet_dot(FLEET, PINGS, ping_edges='all', title='the "lab" \\ ü')
    picture = parse(text)
    graph = render_json(text)
    assert drawn_text(graph) == ['the "lab" \\ ü']
    objects = graph['objects']
    clusters = {o['name']: o for o in objects if o['name'].startswith('cluster_')}
    nodes = {o['name']: o for o in objects if not o['name'].startswith('cluster_')}
    assert set(nodes) == set(picture['nodes'])
    assert {name: drawn_text(o) for name, o in clusters.items()} == {
        name: [label] for name, (label, _parent) in picture['clusters'].items()}
    for name, (lines, cluster, _attrs) in picture['nodes'].items():
        if name != 'ping_matrix':
            assert drawn_text(nodes[name]) == lines
            assert cluster is None or nodes[name]['_gvid'] in clusters[cluster]['nodes']
    # the word joiner the filter puts after a backslash that Graphviz would read as an escape
    assert 'vm2/ns "ü" \\N\\' in [line.replace('\u2060', '') for line in drawn_text(nodes['ping_matrix'])]
    names = {o['_gvid']: o['name'] for o in objects}
    assert sorted((names[e['tail']], names[e['head']]) for e in graph['edges']) == sorted(
        (tail, head) for tail, head, _attrs in picture['edges'])


# --- escaping and bad input ------------------------------------------------------------------

@pytest.mark.parametrize('name, written', [
    ('plain', '"plain"'),
    ('a"b', '"a\\"b"'),
    ('back\\slash', '"back\\\\slash"'),
    ('\\N\\G\\l', '"\\\\N\\\\G\\\\l"'),
    ('tab\there', '"tab\\\\x09here"'),
    ('two\nlines', '"two\\nlines"'),
    ('ünï €', '"ünï €"'),
    ('trailing\\', '"trailing\\\\"'),
])
def test_quoted(name, written):
    assert quoted(name) == written


def test_label_escapes_each_line():
    assert label('a"', 'b\\') == '"a\\"\\nb\\\\"'


def test_odd_host_names_stay_in_labels():
    odd = 'h"}\n];digraph x {\\'
    picture = parse(fleet_dot({odd: {'namespaces': {'n': {'links': {}}}}}))
    assert [label for label, parent in picture['clusters'].values() if parent is None] == [odd]
    assert render_json(fleet_dot({odd: {'namespaces': {}}}))['objects'][0]['name'] == 'cluster_h1'


@pytest.mark.parametrize('fleet, pings, kwargs, message', [
    ([], None, {}, 'expected a mapping of host name'),
    ({'h': 'facts'}, None, {}, 'host h: expected the facts'),
    ({'h': {'namespaces': []}}, None, {}, 'host h: no linuxnet.ipvlan facts'),
    ({'h': {'ansible_facts': {'hostname': 'h'}}}, None, {}, 'host h: no linuxnet.ipvlan facts'),
    ({'h': {'linuxnet_ipvlan': None}}, None, {}, 'host h: expected the facts'),
    ({'h': {'namespaces': {'n': {'links': []}}}}, None, {}, 'host h, namespace n: "links" must map'),
    ({'h': {'namespaces': {'n': 'x'}}}, None, {}, 'host h, namespace n: expected a mapping with "links"'),
    ({}, 'cells', {}, 'pings: expected a list'),
    ({}, [{'src_host': 'h'}], {}, 'pings[0]: expected a mapping with src_host'),
    ({}, [cell('h', 'a', 'h', 'b', '192.0.2.1', 'maybe')], {}, 'pings[0]: result must be one of'),
    ({}, None, {'ping_edges': 'some'}, 'ping_edges must be one of problems, all, none'),
])
def test_bad_input_is_named(fleet, pings, kwargs, message):
    with pytest.raises(FleetError, match=re.escape(message)):
        fleet_dot(fleet, pings, **kwargs)
    with pytest.raises(AnsibleFilterError, match=re.escape('linuxnet.ipvlan.fleet_dot: ' + message)):
        FilterModule().filters()['fleet_dot'](fleet, pings, **kwargs)


def test_namespaces_absent_or_without_a_name():
    fleet = {'h': {'namespaces': {
        'gone': {'exists': False, 'links': {}},
        'c': {'exists': True, 'links': {'eth0': slave('l2', 'bridge', None, 4, [], master_netns='<unnamed>')}},
    }}}
    picture = parse(fleet_dot(fleet))
    assert sorted(label for label, parent in picture['clusters'].values() if parent is not None) == [
        'namespace without a name (not read)', 'netns c', 'netns gone (does not exist)']
    assert edges_by_name(picture) == [
        (('h', 'netns c', 'eth0'), ('h', 'namespace without a name (not read)', 'ifindex 4'), 'l2 bridge')]


def test_every_shape_of_facts_draws_the_same_host():
    facts = FLEET['vm1']
    expected = fleet_dot({'vm1': facts})
    for shape in ({'linuxnet_ipvlan': facts}, {'ansible_facts': {'linuxnet_ipvlan': facts}},
                  {'changed': False, 'linuxnet_ipvlan': facts}):
        assert fleet_dot({'vm1': shape}) == expected


def test_a_host_without_namespaces_is_still_drawn():
    picture = parse(fleet_dot({'h': {'namespaces': {}}, 'i': {'namespaces': {}, 'root': {'links': {'lo': LO}}}}))
    assert sorted((cluster_path(picture, cluster), lines) for lines, cluster, _a in picture['nodes'].values()) == [
        (('h',), ['(no namespaces)']), (('i',), ['(no namespaces)'])]
    assert len(render_json(fleet_dot({'h': {'namespaces': {}}}))['objects']) == 2   # the cluster and its note


def test_empty_fleet_is_an_empty_graph():
    assert parse(fleet_dot({})) == {'clusters': {}, 'nodes': {}, 'edges': []}
