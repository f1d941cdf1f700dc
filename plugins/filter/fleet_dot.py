# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_dot
short_description: Draw a fleet's namespaces, ipvlan links and ping matrix as a Graphviz DOT document
version_added: 0.2.0
description:
  - Turns the facts of every host (what M(linuxnet.ipvlan.facts) or M(linuxnet.ipvlan.info) read) into a Graphviz
    DOT document, which the C(dot) program of the C(graphviz) package renders (C(dot -Tsvg -o fleet.svg fleet.dot)).
  - Each host is a cluster. The ipvlan masters and slaves of its root namespace are drawn in it directly (its other
    links are left out); each named namespace is a cluster inside it with all its links but C(lo). A link is a box
    that names it, its kind (for an ipvlan slave its mode and flags; a master is drawn in bold) and its addresses
    (but the IPv6 link-local one every link has).
    An arrow goes from each ipvlan slave to its master, labelled with the mode and flags.
  - A master the facts did not read (gathered with C(include_root=false), say) is drawn from what its slaves say of
    it, marked C(not read); one in a namespace that has no C(ip netns) name is drawn in a box of that name. A listed
    namespace that does not exist is drawn empty, marked C(does not exist).
  - With O(pings), the cells of a ping matrix are drawn as a table, and as arrows from the pinging namespace to the
    link that holds the address (see O(ping_edges)).
  - The document depends only on the input (hosts, namespaces, links, addresses and cells are sorted), so a
    playbook that writes it changes the file only when the fleet changed. Names appear only in labels, escaped
    (quotes, backslashes, control characters; any Unicode is kept); node ids are generated.
  - Runs on the controller; needs nothing but ansible-core.
positional: pings
options:
  _input:
    description:
      - The fleet, a mapping of host name to that host's facts.
      - A host's facts are C(ansible_facts.linuxnet_ipvlan) (set by M(linuxnet.ipvlan.facts)), the result
        registered from M(linuxnet.ipvlan.info), anything else that holds them under the C(linuxnet_ipvlan) key
        (C(ansible_facts) itself, for one), or a host's C(hostvars) (which hold them under C(ansible_facts)).
      - A host without these facts is an error that names it. A host with no namespace is drawn with a note that says so.
    type: dict
    required: true
  pings:
    description:
      - The cells of a ping matrix, each a mapping with V(src_host) and V(src_netns) (the namespace that pinged),
        V(dst_host), V(dst_netns) and V(address) (the address it pinged; a prefix length is dropped) and V(result),
        one of V(ok), V(FAIL) (no answer), V(blocked) (no answer, as expected), V(LEAK) (an answer that should not
        have come) and V(n/a) (the host did not ping), or a boolean (true for V(ok), false for V(FAIL)).
      - C(playbooks/ping_matrix.yml) writes them as JSON when C(ping_matrix_results_file) is set.
    type: list
    elements: dict
  ping_edges:
    description:
      - Which cells of O(pings) are also drawn as arrows (the table shows them all).
      - V(problems) draws the cells that went wrong (V(FAIL), V(LEAK), V(n/a)), V(all) every cell, V(none) none.
    type: str
    choices: [problems, all, none]
    default: problems
  title:
    description: A title for the picture.
    type: str
seealso:
  - module: linuxnet.ipvlan.facts
  - module: linuxnet.ipvlan.info
author:
  - linuxnet.ipvlan developers (@linuxnet)
"""

EXAMPLES = r"""
# playbooks/fleet_picture.yml of the collection does all of this, and renders the SVG.
- name: Read the namespaces of every host
  linuxnet.ipvlan.facts:

- name: Write the picture of the fleet on the controller
  ansible.builtin.copy:
    content: "{{ fleet | linuxnet.ipvlan.fleet_dot(title='The lab') }}"
    dest: /tmp/fleet.dot
    mode: "0644"
  vars:
    # host name -> its facts
    fleet: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'ansible_facts'))) }}"
  delegate_to: localhost
  run_once: true

- name: Draw every ping of a ping matrix too
  ansible.builtin.copy:
    content: "{{ fleet | linuxnet.ipvlan.fleet_dot(lookup('ansible.builtin.file', 'ping-matrix.json') | ansible.builtin.from_json,
                 ping_edges='all') }}"
    dest: /tmp/fleet-pings.dot
    mode: "0644"
  vars:
    fleet: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'ansible_facts'))) }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: The DOT document (a digraph named C(fleet)), UTF-8 text ending with a newline.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.linuxnet.ipvlan.plugins.plugin_utils._fleet_dot import FleetError, fleet_dot


def fleet_dot_filter(fleet, pings=None, ping_edges='problems', title=None):
    try:
        return fleet_dot(fleet, pings=pings, ping_edges=ping_edges, title=title)
    except FleetError as exc:
        raise AnsibleFilterError('linuxnet.ipvlan.fleet_dot: %s' % exc) from exc


class FilterModule:
    def filters(self):
        return {'fleet_dot': fleet_dot_filter}
