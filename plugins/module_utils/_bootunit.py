# -*- coding: utf-8 -*-
# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Boot persistence: a systemd unit that recreates a topology at boot with iproute2, without Ansible.

``render`` turns the topology module's ``namespaces`` into the unit; ``converge`` writes,
enables and starts it (or stops, disables and removes it) in the same module run as the
topology, idempotently, with check mode.  On a host where nothing is to change it costs one
file read and one ``systemctl show``.  Every program runs as an argv list.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.linuxnet.ipvlan.plugins.module_utils._errors import TaskError

UNIT_DIR = '/etc/systemd/system'
SYSTEMD_RUNNING = '/run/systemd/system'   # sd_booted(): systemd is PID 1
UNIT_MODE = 0o644

HEADER = """\
# Ansible managed
# linuxnet.ipvlan.namespaces: recreates the ipvlan topology at boot, with iproute2 and without Ansible.
# Namespaces are fresh at boot. Run again on a host where the topology is in place, it changes nothing:
# "netns add" and "link add" may fail ("-": the failure is ignored, anything really missing makes the
# next line fail), addresses and routes are "replace"d. Stopping the unit leaves the topology alone.
"""


def _e(value):
    """systemd expands % specifiers and $ variables and treats \\ as an escape: quote all three."""
    return str(value).replace('\\', '\\\\').replace('%', '%%').replace('$', '$$')


def _q(value):
    """One double-quoted word, in which systemd reads \\ and " as escapes and does not split at spaces."""
    return '"%s"' % str(value).replace('\\', '\\\\').replace('"', '\\"').replace('%', '%%').replace('$', '$$')


def _device_unit(name):
    return 'sys-subsystem-net-devices-%s.device' % name.replace('-', '\\x2d')


def masters_of(namespaces):
    """The masters, in the module's namespace, of the declared slaves (in order, once each)."""
    found = []
    for ns in namespaces:
        for slave in ns.get('ipvlans') or ():
            if not slave.get('master_netns') and slave['master'] not in found:
                found.append(slave['master'])
    return found


def render(namespaces, masters, ip, marker):
    """The unit for the topology module's ``namespaces`` (absent entries are left out)."""
    ip = _q(ip)
    devices = ' '.join(_device_unit(m) for m in masters)
    lines = [HEADER + '[Unit]',
             'Description=ipvlan namespaces%s (linuxnet.ipvlan)' % (
                 ' on ' + ', '.join(_e(m) for m in masters) if masters else '')]
    if masters:
        lines += ['Wants=' + devices, 'After=' + devices]
    lines += ['Before=network-online.target', '', '[Service]', 'Type=oneshot', 'RemainAfterExit=yes']
    lines += ['ExecStart=%s link set dev %s up' % (ip, _q(m)) for m in masters]
    for ns in namespaces:
        if ns.get('state', 'present') != 'absent':
            lines += _namespace_lines(ns, ip, _q(marker))
    lines += ['', '[Install]', 'WantedBy=multi-user.target', '']
    return '\n'.join(lines)


def _namespace_lines(ns, ip, marker):
    name = _q(ns['name'])
    lo = ns.get('lo', True)
    slaves = ns.get('ipvlans') or ()
    in_ns = '%s -n %s' % (ip, name)
    lines = ['# namespace ' + name, 'ExecStart=-%s netns add %s' % (ip, name)]
    for slave in slaves:
        lines.append('ExecStart=-%s link add link %s name %s netns %s%s type ipvlan mode %s %s' % (
            ip, _q(slave['master']), _q(slave['name']), name,
            ' mtu %d' % slave['mtu'] if slave.get('mtu') else '',
            slave.get('mode', 'l3'), slave.get('flags', 'bridge')))
    lines.append('ExecStart=%s link set dev lo%s alias %s' % (in_ns, ' up' if lo else '', marker))
    if lo:
        lines.append('ExecStart=%s address replace 127.0.0.1/8 dev lo' % in_ns)
    for slave in slaves:
        lines.append('ExecStart=%s link set dev %s up alias %s' % (in_ns, _q(slave['name']), marker))
        lines += ['ExecStart=%s address replace %s dev %s' % (in_ns, _q(address), _q(slave['name']))
                  for address in slave.get('addresses') or ()]
    lines += ['ExecStart=%s %s route replace %s' % (in_ns, _route_family(route), _route_words(route))
              for route in ns.get('routes') or ()]
    return lines


def _route_family(route):
    gateways = [route.get('gateway')] + [hop.get('gateway') for hop in route.get('nexthops') or ()]
    v6 = route.get('family') == 'ipv6' or ':' in str(route['dst']) + ''.join(str(g or '') for g in gateways)
    return '-6' if v6 else '-4'


def _route_words(route):
    words = '%s %s%s' % (route.get('type') or 'unicast', _q(route['dst']), _next_hop(route))
    if route.get('table'):
        words += ' table ' + _q(route['table'])
    if route.get('metric') is not None:
        words += ' metric %d' % route['metric']
    if route.get('scope'):
        words += ' scope ' + route['scope']
    for hop in route.get('nexthops') or ():
        words += ' nexthop%s weight %s' % (_next_hop(hop), hop.get('weight') or 1)
    return words


def _next_hop(hop):
    """via, dev and onlink of a route or of one of its next hops.

    ip(8) takes no zone id: fe80::1%eth0 is "via fe80::1 dev eth0", as the modules read it.
    """
    gateway = str(hop.get('gateway') or '').split('%')
    dev = hop.get('dev') or (gateway[1] if len(gateway) > 1 else '')
    words = ' via ' + _q(gateway[0]) if gateway[0] else ''
    if dev:
        words += ' dev ' + _q(dev)
    if hop.get('onlink'):
        words += ' onlink'
    return words


# --- on the host -------------------------------------------------------------------

def preflight(persist):
    """Before any change: a unit to install needs a running systemd."""
    if persist and persist['state'] == 'present' and not os.path.isdir(SYSTEMD_RUNNING):
        raise TaskError('persist: this host does not run systemd (%s is missing); boot persistence needs it'
                        % SYSTEMD_RUNNING)


class BootUnit:
    """Converge the unit file and its systemd state; ``actions`` and ``diff`` say what changed."""

    def __init__(self, module, persist, namespaces, marker):
        self.module = module
        self.unit = persist['unit']
        self.path = os.path.join(UNIT_DIR, self.unit)
        self.want = None
        if persist['state'] == 'present':
            masters = persist['masters'] if persist.get('masters') is not None else masters_of(namespaces)
            self.want = render(namespaces, masters, persist['ip'], marker)
        self.actions = []
        self.diff = None

    def converge(self):
        current = self._read()
        if self.want is None:
            if current is not None:
                self._remove(current)
            return
        if current != self.want:
            self.diff = {'before_header': self.path, 'after_header': self.path,
                         'before': current or '', 'after': self.want}
            self.actions.append('%s unit %s' % ('write' if current is None else 'rewrite', self.path))
            if not self.module.check_mode:
                self._write()
                self._systemctl('daemon-reload')
        elif self._fix_attributes():
            self.actions.append('set owner root and mode 0644 on %s' % self.path)
        self._enable_and_start(rewritten=current != self.want, new=current is None)

    def _enable_and_start(self, rewritten, new):
        if new and self.module.check_mode:
            # Not there to ask systemd about: it would be enabled and started.
            self.actions.append('enable and start %s' % self.unit)
            return
        status = self._status()
        if status.get('UnitFileState') != 'enabled':
            self.actions.append('enable %s' % self.unit)
            self._systemctl('enable', '--', self.unit)
        if rewritten:
            verb = 'restart' if status.get('ActiveState') == 'active' else 'start'
        elif status.get('ActiveState') != 'active':
            verb = 'start'
        else:
            return
        self.actions.append('%s %s' % (verb, self.unit))
        self._systemctl(verb, '--', self.unit)

    def _remove(self, current):
        self.diff = {'before_header': self.path, 'after_header': self.path, 'before': current, 'after': ''}
        self.actions.append('stop, disable and remove unit %s' % self.path)
        if not self.module.check_mode:
            self._systemctl('disable', '--now', '--', self.unit)
            os.unlink(self.path)
            self._systemctl('daemon-reload')

    def _read(self):
        try:
            with open(self.path, encoding='utf-8') as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def _write(self):
        tmp = '%s.linuxnet-ipvlan.%d' % (self.path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, UNIT_MODE)
        try:
            with os.fdopen(fd, 'w', encoding='utf-8') as handle:
                handle.write(self.want)
            os.chmod(tmp, UNIT_MODE)
            self.module.atomic_move(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._fix_attributes()

    def _fix_attributes(self):
        st = os.stat(self.path)
        if stat.S_IMODE(st.st_mode) == UNIT_MODE and st.st_uid == 0 and st.st_gid == 0:
            return False
        if not self.module.check_mode:
            os.chown(self.path, 0, 0)
            os.chmod(self.path, UNIT_MODE)
        return True

    def _status(self):
        out = self._systemctl('show', '--property=UnitFileState,ActiveState', '--', self.unit, read_only=True)
        return dict(line.split('=', 1) for line in out.splitlines() if '=' in line)

    def _systemctl(self, *args, read_only=False):
        if self.module.check_mode and not read_only:
            return ''
        argv = [self.module.get_bin_path('systemctl', required=True)] + list(args)
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            raise TaskError('persist: %s failed (rc=%d): %s%s' % (
                ' '.join(argv[1:]), rc, (err or out).strip(),
                '; see journalctl -u %s' % self.unit if args[0] in ('start', 'restart') else ''))
        return out
