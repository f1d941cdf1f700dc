# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vmlab: the linuxnet.ipvlan VM lab (Debian guests under QEMU), stdlib only.

Subcommands:
  build      build (or reuse) a cached Debian image: qcow2 + vmlinuz + initrd
  up         boot a lab of N VMs from a JSON spec (or --vm flags), wait for SSH
  down       stop a lab and remove everything it left (idempotent)
  inventory  print or write an Ansible YAML inventory for a running lab
  instances  print the Molecule instance config of a lab as JSON
  status     print the state of a lab
  relay      switch a VM's port of a hub segment to reflective relay (802.1Qbg) and back; show its log
  hub        (internal) the L2 hub that joins 1 or 3+ VMs on one segment

See tests/vmlab/README.md. Nothing here runs through a shell: every program is
started with an argv list.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import errno
import fcntl
import glob
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

SCRIPT_VERSION = "1"

CACHE_ROOT = os.path.expanduser(os.environ.get("LINUXNET_VMLAB_CACHE", "~/.cache/linuxnet-ipvlan"))
IMAGES_DIR = os.path.join(CACHE_ROOT, "images")
LABS_DIR = os.path.join(CACHE_ROOT, "labs")

# Images: name -> Debian suite.  Both come from the same recipe.
IMAGES = {"bookworm": "bookworm", "trixie": "trixie"}
KNOWN_SUITES = {"buster", "bullseye", "bookworm", "trixie", "forky", "sid",
                "oldstable", "stable", "testing", "unstable"}

PACKAGES = [
    "linux-image-cloud-amd64", "systemd-sysv", "openssh-server", "python3",
    "python3-pyroute2", "iproute2", "iputils-ping", "udev", "kmod", "initramfs-tools",
    # The wire scenario's l3s proof: a rule in the master's namespace (molecule/wire).
    "nftables",
]
DPKG_OPTS = [
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/info/*",
]
IMAGE_SIZE = "2G"

# Guest PCI layout (i440fx): disk 00:02, management NIC 00:03 (ens3),
# lab NICs from 00:04 on (ens4, ens5, ...) in the order of the VM's segment list.
PCI_DISK = 2
PCI_MGMT = 3
PCI_LAB_FIRST = 4
PCI_RNG = 0x1F
MAX_LAB_NICS = PCI_RNG - PCI_LAB_FIRST
MGMT_MAC = "52:54:00:aa:00:{vm:02x}"
LAB_MAC = "52:54:00:bb:{seg:02x}:{vm:02x}"

# Units that would wait for the network or do housekeeping nobody needs in a lab VM.
MASKED_UNITS = [
    "systemd-networkd-wait-online.service", "network-online.target",
    "apt-daily.timer", "apt-daily-upgrade.timer", "apt-daily.service", "apt-daily-upgrade.service",
    "e2scrub_all.timer", "e2scrub_reap.service", "fstrim.timer", "dpkg-db-backup.timer",
    "logrotate.timer", "man-db.timer", "systemd-tmpfiles-clean.timer", "getty@tty1.service",
]
ENABLED_UNITS = ["systemd-networkd.service", "vmlab-init.service"]

GUEST_FILES = {
    "etc/fstab": "/dev/vda / ext4 defaults,noatime 0 0\n",
    "etc/hostname": "vmlab\n",
    "etc/hosts": "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n",
    # Management NIC: DHCP from QEMU's user-mode network (restrict=on), matched by PCI slot.
    "etc/systemd/network/10-vmlab-mgmt.network": (
        "[Match]\n"
        "Path=pci-0000:00:03.0\n\n"
        "[Network]\n"
        "DHCP=ipv4\n"
        "LinkLocalAddressing=no\n"
        "IPv6AcceptRA=no\n"
    ),
    # Lab NICs (every other virtio NIC): brought up, nothing configured on them.
    "etc/systemd/network/20-vmlab-lab.network": (
        "[Match]\n"
        "Driver=virtio_net\n"
        "Path=!pci-0000:00:03.0\n\n"
        "[Link]\n"
        "RequiredForOnline=no\n"
        "ActivationPolicy=up\n\n"
        "[Network]\n"
        "LinkLocalAddressing=no\n"
        "IPv6AcceptRA=no\n"
        "ConfigureWithoutCarrier=yes\n"
        "KeepConfiguration=yes\n"
    ),
    "etc/ssh/sshd_config.d/10-vmlab.conf": (
        "HostKey /etc/ssh/ssh_host_ed25519_key\n"
        "PermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\n"
        "UseDNS no\n"
    ),
    "etc/systemd/journald.conf.d/10-vmlab.conf": "[Journal]\nStorage=volatile\n",
    # Boot-time setup from the kernel command line: the lab's SSH key, hostname, a host key.
    "usr/local/sbin/vmlab-init": (
        "#!/bin/sh\n"
        "# vmlab: per-boot setup from the kernel command line (vmlab.sshkey=<base64>, vmlab.hostname=NAME)\n"
        "set -eu\n"
        "key=''\n"
        "name=''\n"
        "for arg in $(cat /proc/cmdline); do\n"
        "  case \"$arg\" in\n"
        "    vmlab.sshkey=*) key=\"${arg#vmlab.sshkey=}\" ;;\n"
        "    vmlab.hostname=*) name=\"${arg#vmlab.hostname=}\" ;;\n"
        "  esac\n"
        "done\n"
        "install -d -m 0700 /root/.ssh\n"
        "if [ -n \"$key\" ]; then\n"
        "  printf '%s' \"$key\" | base64 -d > /root/.ssh/authorized_keys.new\n"
        "  chmod 0600 /root/.ssh/authorized_keys.new\n"
        "  mv /root/.ssh/authorized_keys.new /root/.ssh/authorized_keys\n"
        "fi\n"
        "if [ -n \"$name\" ]; then\n"
        "  echo \"$name\" > /etc/hostname\n"
        "  hostname \"$name\"\n"
        "  printf '127.0.1.1 %s\\n' \"$name\" >> /etc/hosts\n"
        "fi\n"
        "[ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key\n"
        "state=missing\n"
        "[ -s /root/.ssh/authorized_keys ] && state=installed\n"
        "echo \"vmlab-init: hostname ${name:-unset}, lab SSH key $state\" > /dev/console\n"
    ),
    "etc/systemd/system/vmlab-init.service": (
        "[Unit]\n"
        "Description=vmlab per-boot setup (lab SSH key, hostname, host key)\n"
        "DefaultDependencies=no\n"
        "After=local-fs.target\n"
        "Before=ssh.service sysinit.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        "ExecStart=/usr/local/sbin/vmlab-init\n\n"
        "[Install]\n"
        "WantedBy=sysinit.target\n"
    ),
}
GUEST_EXECUTABLES = {"usr/local/sbin/vmlab-init"}
KERNEL_CMDLINE = ["root=/dev/vda", "rw", "console=ttyS0", "quiet", "loglevel=3",
                  "mitigations=off", "net.ifnames=1"]


class VmlabError(Exception):
    """A failure with a message meant for the user."""


# ---------------------------------------------------------------- helpers

_T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[vmlab {time.monotonic() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def run(argv: list[str], *, check: bool = True, capture: bool = False, **kw) -> subprocess.CompletedProcess:
    """Run argv (never through a shell)."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    if capture:
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
    proc = subprocess.run(argv, text=True, check=False, **kw)  # noqa: S603
    if check and proc.returncode != 0:
        err = (proc.stderr or "").strip()[-2000:] if capture else ""
        raise VmlabError(f"command failed ({proc.returncode}): {' '.join(argv[:6])}{' ...' if len(argv) > 6 else ''}"
                         + (f"\n{err}" if err else ""))
    return proc


def need(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        raise VmlabError(f"missing programs: {', '.join(missing)} (run `make setup`, which installs "
                         "qemu-system-x86 qemu-utils mmdebstrap e2fsprogs openssh-client)")


def write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def mounts_under(path: str) -> list[str]:
    path = os.path.realpath(path)
    found = []
    # Bytes: a mount point may have any name, not UTF-8 (say, a namespace under /run/netns that
    # another program made); the kernel escapes space, tab, newline and backslash as \ooo.
    with open("/proc/self/mountinfo", "rb") as fh:
        for line in fh:
            field = line.split()[4]
            mnt = os.fsdecode(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), field))
            if mnt == path or mnt.startswith(path + "/"):
                found.append(mnt)
    return found


def safe_rmtree(path: str) -> None:
    """rmtree that refuses to descend into anything mounted below path."""
    if not os.path.lexists(path):
        return
    mounted = mounts_under(path)
    if mounted:
        raise VmlabError(f"refusing to delete {path}: mounted below it: {', '.join(mounted)}")
    shutil.rmtree(path, ignore_errors=True)


def fmt_secs(secs: float) -> str:
    return f"{secs:.1f}s" if secs < 120 else f"{int(secs // 60)}m{int(secs % 60):02d}s"


class Step:
    """Context manager printing a long step and how long it took."""

    def __init__(self, what: str):
        self.what = what
        self.start = 0.0
        self.elapsed = 0.0

    def __enter__(self):
        log(f"{self.what} ...")
        self.start = time.monotonic()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.elapsed = time.monotonic() - self.start
        log(f"{self.what}: {'done' if exc_type is None else 'FAILED'} in {fmt_secs(self.elapsed)}")
        return False


# ---------------------------------------------------------------- mirror

def _parse_deb822(text: str) -> list[dict]:
    entries, cur, key = [], {}, None
    for raw in text.splitlines() + [""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if cur:
                entries.append(cur)
            cur, key = {}, None
            continue
        if raw[0].isspace() and key:
            cur[key] += " " + raw.strip()
            continue
        if ":" in raw:
            key, val = raw.split(":", 1)
            key = key.strip().lower()
            cur[key] = val.strip()
    return entries


def apt_sources() -> list[tuple[str, list[str]]]:
    """(uri, suites) of every enabled `deb` source of this machine."""
    found = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path, encoding="utf-8") as fh:
            for ent in _parse_deb822(fh.read()):
                if ent.get("enabled", "yes").lower() == "no" or "deb" not in ent.get("types", "").split():
                    continue
                for uri in ent.get("uris", "").split():
                    found.append((uri, ent.get("suites", "").split()))
    lists = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in lists:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                parts = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
                if len(parts) >= 3 and parts[0] == "deb":
                    found.append((parts[1], [parts[2]]))
    return found


def debian_mirror() -> str:
    """The Debian mirror of this machine's apt sources (or LINUXNET_VMLAB_MIRROR)."""
    env = os.environ.get("LINUXNET_VMLAB_MIRROR")
    if env:
        return env
    for uri, suites in apt_sources():
        if "security" in uri:
            continue
        if any(s in KNOWN_SUITES for s in suites):
            return uri
    raise VmlabError("no Debian mirror found in /etc/apt/sources.list{,.d/*}; set LINUXNET_VMLAB_MIRROR")


# ---------------------------------------------------------------- image build

def recipe(image: str) -> dict:
    if image not in IMAGES:
        raise VmlabError(f"unknown image {image!r}; choose one of {', '.join(IMAGES)}")
    return {
        "script_version": SCRIPT_VERSION,
        "suite": IMAGES[image],
        "variant": "apt",
        "packages": PACKAGES,
        "dpkg_opts": DPKG_OPTS,
        "files": GUEST_FILES,
        "masked": MASKED_UNITS,
        "enabled": ENABLED_UNITS,
        "size": IMAGE_SIZE,
    }


def image_dir(image: str) -> str:
    digest = hashlib.sha256(json.dumps(recipe(image), sort_keys=True).encode()).hexdigest()[:16]
    return os.path.join(IMAGES_DIR, f"{image}-{digest}")


def image_ready(path: str) -> bool:
    return all(os.path.isfile(os.path.join(path, f)) for f in ("disk.qcow2", "vmlinuz", "initrd.img", "manifest.json"))


def _clean_stale_tmp() -> None:
    for tmp in glob.glob(os.path.join(IMAGES_DIR, ".tmp-*")):
        m = re.search(r"-pid(\d+)$", tmp)
        if m and os.path.exists(f"/proc/{m.group(1)}"):
            continue
        log(f"removing the leftovers of an interrupted build: {tmp}")
        safe_rmtree(tmp)


def build_image(image: str, *, force: bool = False) -> str:
    """Build the image if needed; return its cache directory."""
    final = image_dir(image)
    os.makedirs(IMAGES_DIR, exist_ok=True)
    if image_ready(final) and not force:
        log(f"reusing cached image {final}")
        return final
    need("mmdebstrap", "mkfs.ext4", "qemu-img", "tar")
    if os.geteuid() != 0:
        raise VmlabError("building an image needs root (mmdebstrap writes device nodes and file owners)")
    lock_path = final + ".lock"
    with open(lock_path, "w", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"another build of {image} is running; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if image_ready(final) and not force:
            log(f"reusing cached image {final}")
            return final
        _clean_stale_tmp()
        tmp = os.path.join(IMAGES_DIR, f".tmp-{os.path.basename(final)}-pid{os.getpid()}")
        safe_rmtree(tmp)
        os.makedirs(tmp)
        try:
            manifest = _build_into(image, tmp)
            write_atomic(os.path.join(tmp, "manifest.json"), json.dumps(manifest, indent=2) + "\n")
            if os.path.exists(final):
                safe_rmtree(final)
            os.rename(tmp, final)
        except BaseException:
            safe_rmtree(tmp)
            raise
    log(f"image ready: {final} (build took {fmt_secs(manifest['timings']['total'])})")
    return final


def _build_into(image: str, tmp: str) -> dict:
    rec = recipe(image)
    mirror = debian_mirror()
    timings = {}
    t_start = time.monotonic()
    tarball = os.path.join(tmp, "rootfs.tar")
    argv = ["mmdebstrap", "--variant=apt", "--format=tar", "--include=" + ",".join(PACKAGES)]
    argv += [f"--dpkgopt={o}" for o in DPKG_OPTS]
    argv += [rec["suite"], tarball, mirror]
    with Step(f"mmdebstrap {rec['suite']} from {mirror} (about a minute)") as st:
        proc = run(argv, check=False, capture=True)
        if proc.returncode != 0:
            raise VmlabError(f"mmdebstrap failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    timings["mmdebstrap"] = round(st.elapsed, 1)

    root = os.path.join(tmp, "root")
    with Step("unpack and customise the root file system") as st:
        os.makedirs(root)
        run(["tar", "-C", root, "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", tarball], capture=True)
        os.unlink(tarball)
        _customise(root)
        kernel = _copy_boot(root, tmp)
    timings["customise"] = round(st.elapsed, 1)

    raw = os.path.join(tmp, "disk.raw")
    with Step("make the ext4 file system and the qcow2 image") as st:
        with open(raw, "wb") as fh:
            fh.truncate(_size_bytes(IMAGE_SIZE))
        run(["mkfs.ext4", "-q", "-F", "-L", "vmlabroot", "-d", root, raw], capture=True)
        safe_rmtree(root)
        run(["qemu-img", "convert", "-O", "qcow2", raw, os.path.join(tmp, "disk.qcow2")], capture=True)
        os.unlink(raw)
    timings["disk"] = round(st.elapsed, 1)
    timings["total"] = round(time.monotonic() - t_start, 1)
    return {"image": image, "recipe": rec, "kernel": kernel, "mirror": mirror,
            "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "timings": timings}


def _size_bytes(size: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)


def _customise(root: str) -> None:
    for rel, text in GUEST_FILES.items():
        dest = os.path.join(root, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if os.path.islink(dest):
            os.unlink(dest)
        with open(dest, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(dest, 0o755 if rel in GUEST_EXECUTABLES else 0o644)
    # No host keys in the image: every VM makes its own at first boot (vmlab-init).
    for key in glob.glob(os.path.join(root, "etc/ssh/ssh_host_*")):
        os.unlink(key)
    # A machine-id per boot (empty file: systemd makes a transient one).
    with open(os.path.join(root, "etc/machine-id"), "w", encoding="utf-8"):
        pass
    run(["systemctl", f"--root={root}", "enable"] + ENABLED_UNITS, capture=True)
    run(["systemctl", f"--root={root}", "mask"] + MASKED_UNITS, capture=True)


def _copy_boot(root: str, dest: str) -> str:
    kernels = sorted(glob.glob(os.path.join(root, "boot/vmlinuz-*")))
    if not kernels:
        raise VmlabError("no kernel in the image (boot/vmlinuz-*)")
    version = os.path.basename(kernels[-1])[len("vmlinuz-"):]
    initrd = os.path.join(root, f"boot/initrd.img-{version}")
    if not os.path.exists(initrd):
        raise VmlabError(f"no initrd for kernel {version}")
    shutil.copyfile(kernels[-1], os.path.join(dest, "vmlinuz"))
    shutil.copyfile(initrd, os.path.join(dest, "initrd.img"))
    return version


def prune_images() -> None:
    """Remove cached images of older recipes that no existing lab uses as a backing file."""
    current = {image_dir(name) for name in IMAGES}
    in_use = set()
    for path in glob.glob(os.path.join(LABS_DIR, "*", "state.json")):
        try:
            with open(path, encoding="utf-8") as fh:
                in_use.update(vm.get("image_dir") for vm in json.load(fh).get("vms", []))
        except (OSError, ValueError):
            continue
    for path in sorted(glob.glob(os.path.join(IMAGES_DIR, "*"))):
        base = path[:-5] if path.endswith(".lock") else path
        if base in current:
            continue
        if base in in_use:
            if not path.endswith(".lock"):
                log(f"keeping {base}: a lab still uses it")
            continue
        if path.endswith(".lock"):
            os.unlink(path)
        else:
            log(f"removing old image {path}")
            safe_rmtree(path)


# ---------------------------------------------------------------- lab spec

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def load_spec(spec_path: str | None, vm_flags: list[str] | None) -> list[dict]:
    """VM list from a JSON spec ({"vms": [...]} or a list) or from --vm NAME[:IMAGE[:SEG,SEG]] flags."""
    if spec_path:
        if spec_path == "-":
            data = json.load(sys.stdin)
        else:
            with open(spec_path, encoding="utf-8") as fh:
                data = json.load(fh)
        vms = data["vms"] if isinstance(data, dict) else data
    else:
        vms = []
        for flag in vm_flags or []:
            parts = flag.split(":")
            vms.append({"name": parts[0],
                        "image": parts[1] if len(parts) > 1 and parts[1] else "bookworm",
                        "segments": [s for s in parts[2].split(",") if s] if len(parts) > 2 else []})
    if not vms:
        raise VmlabError("the lab has no VMs (give --spec FILE or --vm NAME[:IMAGE[:SEG,...]])")
    out, seen = [], set()
    for vm in vms:
        name = vm.get("name", "")
        if not NAME_RE.match(name) or name in seen:
            raise VmlabError(f"bad or duplicate VM name {name!r} (lowercase letters, digits, '-')")
        seen.add(name)
        segments = list(vm.get("segments", []))
        if len(segments) > MAX_LAB_NICS or len(set(segments)) != len(segments):
            raise VmlabError(f"{name}: at most {MAX_LAB_NICS} distinct segments")
        for seg in segments:
            if not NAME_RE.match(seg):
                raise VmlabError(f"{name}: bad segment name {seg!r}")
        image = vm.get("image") or "bookworm"
        if image not in IMAGES:
            raise VmlabError(f"{name}: unknown image {image!r}; choose one of {', '.join(IMAGES)}")
        out.append({"name": name, "image": image, "segments": segments,
                    "memory": int(vm.get("memory") or 1024), "cpus": int(vm.get("cpus") or 1)})
    return out


# ---------------------------------------------------------------- lab state

def lab_dir(lab: str) -> str:
    if not NAME_RE.match(lab):
        raise VmlabError(f"bad lab name {lab!r} (lowercase letters, digits, '-', at most 31 characters)")
    return os.path.join(LABS_DIR, lab)


def state_path(lab: str) -> str:
    return os.path.join(lab_dir(lab), "state.json")


def load_state(lab: str) -> dict | None:
    try:
        with open(state_path(lab), encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None
    except ValueError:
        return {"lab": lab, "dir": lab_dir(lab), "vms": [], "hubs": [], "corrupt": True}


def save_state(state: dict) -> None:
    write_atomic(state_path(state["lab"]), json.dumps(state, indent=2) + "\n")


def read_pidfile(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return int(fh.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def proc_cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return []


def is_ours(pid: int | None, marker: str, program: str) -> bool:
    """True if pid runs `program` and has `marker` (a path of this lab) in its argv."""
    if not pid:
        return False
    argv = proc_cmdline(pid)
    if not argv:
        return False
    prog_ok = any(os.path.basename(a).startswith(program) for a in argv[:2])
    return prog_ok and any(marker in a for a in argv)


def _reap(pid: int) -> None:
    """Reap pid if it is our own child (a hub started by this process)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop_processes(procs: list[tuple[int, str, str, str]]) -> None:
    """Stop (pid, marker, program, what) entries that are really ours: SIGTERM, then SIGKILL after 10 s."""
    live = []
    for pid, marker, program, what in procs:
        if pid and is_ours(pid, marker, program) and all(pid != p[0] for p in live):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
                live.append((pid, marker, program, what))
    deadline = time.monotonic() + 10
    how = "stopped"
    while True:
        for entry in live:
            _reap(entry[0])
        remaining = [p for p in live if is_ours(*p[:3])]
        if not remaining:
            break
        if time.monotonic() > deadline:
            if how == "killed":
                raise VmlabError("survive SIGKILL: " + ", ".join(f"{entry[3]} (pid {entry[0]})" for entry in remaining))
            for pid in [entry[0] for entry in remaining]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            how = "killed"
            deadline = time.monotonic() + 10
        time.sleep(0.1)
    # A daemonised qemu is init's child: give init a moment to reap the zombies.
    reap_deadline = time.monotonic() + 3
    while any(os.path.exists(f"/proc/{p[0]}") for p in live) and time.monotonic() < reap_deadline:
        time.sleep(0.1)
    for entry in live:
        log(f"{how} {entry[3]} (pid {entry[0]})")


def lab_down(lab: str) -> None:
    """Stop everything of the lab and remove its directory. Idempotent."""
    ldir = lab_dir(lab)
    if not os.path.isdir(ldir):
        log(f"lab {lab}: nothing to do (no {ldir})")
        return
    state = load_state(lab) or {"vms": [], "hubs": []}
    procs = []
    for vm in state.get("vms", []):
        pid = read_pidfile(vm["pidfile"]) or vm.get("pid")
        procs.append((pid, vm["pidfile"], "qemu-system", f"VM {vm['name']}"))
    # Hubs, and any qemu whose pidfile lies in the lab dir but never reached state.json.
    for pidfile in sorted(glob.glob(os.path.join(ldir, "*.pid"))):
        pid = read_pidfile(pidfile)
        name = os.path.basename(pidfile)[:-4]
        procs.append((pid, pidfile, "qemu-system", f"VM {name}"))
        procs.append((pid, pidfile, "python", f"hub {name}"))
    stop_processes(procs)
    safe_rmtree(ldir)
    log(f"lab {lab}: down, {ldir} removed")


# ---------------------------------------------------------------- accelerator, ports

def accelerator() -> str:
    forced = os.environ.get("LINUXNET_VMLAB_ACCEL", "").strip().lower()
    if forced in ("kvm", "tcg"):
        return forced
    if forced:
        raise VmlabError(f"LINUXNET_VMLAB_ACCEL={forced!r}: use kvm or tcg")
    if not (os.path.exists("/sys/module/kvm_intel") or os.path.exists("/sys/module/kvm_amd")):
        return "tcg"
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
        os.close(fd)
    except OSError:
        return "tcg"
    return "kvm"


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- lab up

def plan_segments(vms: list[dict], ldir: str) -> dict:
    """segment -> {index, members, mode, sockets}: 2 members are joined directly, others via a hub."""
    segs: dict[str, dict] = {}
    for vm in vms:
        for seg in vm["segments"]:
            segs.setdefault(seg, {"members": []})["members"].append(vm["name"])
    for idx, (name, seg) in enumerate(sorted(segs.items()), start=1):
        seg["index"] = idx
        seg["mode"] = "pair" if len(seg["members"]) == 2 and not os.environ.get("LINUXNET_VMLAB_FORCE_HUB") else "hub"
        seg["sockets"] = {m: os.path.join(ldir, f"s{idx}-{m}.sock") for m in seg["members"]}
        seg["hub_socket"] = os.path.join(ldir, f"s{idx}-hub.sock") if seg["mode"] == "hub" else None
        for path in list(seg["sockets"].values()) + [seg["hub_socket"] or ""]:
            if len(path) > 100:
                raise VmlabError(f"socket path too long for AF_UNIX: {path} (use a shorter lab name "
                                 "or LINUXNET_VMLAB_CACHE)")
    return segs


def qemu_argv(vm: dict, img: str, state: dict, segs: dict, accel: str) -> list[str]:
    with open(state["pubkey"], "rb") as fh:
        key_b64 = base64.b64encode(fh.read().strip()).decode()
    cmdline = KERNEL_CMDLINE + [f"vmlab.hostname={vm['name']}", f"vmlab.sshkey={key_b64}"]
    argv = [os.environ.get("LINUXNET_VMLAB_QEMU", "qemu-system-x86_64"),
            "-name", f"vmlab-{state['lab']}-{vm['name']}",
            "-machine", "pc", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-m", str(vm["memory"]), "-smp", str(vm["cpus"])]
    if accel == "kvm":
        argv += ["-accel", "kvm", "-cpu", "host"]
    else:
        argv += ["-accel", "tcg,thread=multi"]
    argv += ["-daemonize", "-pidfile", vm["pidfile"], "-serial", f"file:{vm['serial_log']}",
             "-kernel", os.path.join(img, "vmlinuz"), "-initrd", os.path.join(img, "initrd.img"),
             "-append", " ".join(cmdline),
             "-drive", f"file={vm['overlay']},if=none,id=disk0,format=qcow2,cache=unsafe,discard=unmap",
             "-device", f"virtio-blk-pci,drive=disk0,addr={PCI_DISK:#x}",
             "-netdev", f"user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:{vm['ssh_port']}-:22",
             "-device", f"virtio-net-pci,netdev=mgmt,mac={vm['mgmt_mac']},addr={PCI_MGMT:#x}",
             "-object", "rng-random,id=rng0,filename=/dev/urandom",
             "-device", f"virtio-rng-pci,rng=rng0,addr={PCI_RNG:#x}"]
    for i, nic in enumerate(vm["nics"]):
        seg = segs[nic["segment"]]
        local = seg["sockets"][vm["name"]]
        if seg["mode"] == "pair":
            peer = next(m for m in seg["members"] if m != vm["name"])
            remote = seg["sockets"][peer]
        else:
            remote = seg["hub_socket"]
        argv += ["-netdev", f"dgram,id=lab{i},local.type=unix,local.path={local},"
                            f"remote.type=unix,remote.path={remote}",
                 "-device", f"virtio-net-pci,netdev=lab{i},mac={nic['mac']},addr={nic['pci']:#x}"]
    return argv


def start_hub(state: dict, seg_name: str, seg: dict) -> None:
    ldir = state["dir"]
    pidfile = os.path.join(ldir, f"s{seg['index']}-hub.pid")
    logfile = os.path.join(ldir, f"s{seg['index']}-hub.log")
    argv = [sys.executable, os.path.abspath(__file__), "hub", "--pidfile", pidfile,
            "--socket", seg["hub_socket"], "--lab-dir", ldir]
    for member in seg["members"]:
        argv += ["--member", seg["sockets"][member]]
    hub = {"segment": seg_name, "pidfile": pidfile, "log": logfile}
    state["hubs"].append(hub)
    save_state(state)
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,  # noqa: S603
                                start_new_session=True, close_fds=True)
    deadline = time.monotonic() + 10
    while not os.path.exists(seg["hub_socket"]):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise VmlabError(f"hub for segment {seg_name} did not start; see {logfile}")
        time.sleep(0.05)
    hub["pid"] = proc.pid
    save_state(state)


def start_vm(vm: dict, img: str, state: dict, segs: dict, accel: str, *, port: int | None = None) -> None:
    """Start one VM's qemu (daemonised). port: keep this SSH port (no retry), else pick a free one."""
    attempts = 1 if port else 5
    for attempt in range(1, attempts + 1):
        vm["ssh_port"] = port or free_tcp_port()
        save_state(state)
        for nic in vm["nics"]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(segs[nic["segment"]]["sockets"][vm["name"]])
        proc = run(qemu_argv(vm, img, state, segs, accel), check=False, capture=True)
        if proc.returncode == 0:
            vm["pid"] = read_pidfile(vm["pidfile"])
            save_state(state)
            return
        err = (proc.stderr or "").strip()
        if not port and any(word in err.lower() for word in ("hostfwd", "host forwarding", "in use")):
            log(f"{vm['name']}: port {vm['ssh_port']} was taken meanwhile, retrying ({attempt}/{attempts})")
            continue
        raise VmlabError(f"qemu failed to start {vm['name']} ({proc.returncode}):\n{err[-2000:]}")
    raise VmlabError(f"{vm['name']}: no free SSH port after {attempts} attempts")


def ssh_base(state: dict, vm: dict) -> list[str]:
    return ["ssh", "-i", state["key"], "-p", str(vm["ssh_port"]), "-l", "root",
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "IdentitiesOnly=yes", "127.0.0.1"]


def serial_tail(vm: dict, lines: int = 40) -> str:
    try:
        with open(vm["serial_log"], "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 16384))
            text = fh.read().decode(errors="replace")
    except OSError:
        return "(no serial log)"
    return "\n".join(text.splitlines()[-lines:])


def wait_ssh(state: dict, timeout: float) -> None:
    procs: dict[str, subprocess.Popen] = {}
    try:
        _wait_ssh(state, timeout, procs)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def _wait_ssh(state: dict, timeout: float, procs: dict) -> None:
    pending = {vm["name"]: vm for vm in state["vms"]}
    start = time.monotonic()
    deadline = start + timeout
    while pending:
        for name, vm in list(pending.items()):
            if not is_ours(read_pidfile(vm["pidfile"]), vm["pidfile"], "qemu-system"):
                raise VmlabError(f"VM {name} exited while booting. Serial log tail ({vm['serial_log']}):\n"
                                 + serial_tail(vm))
            proc = procs.get(name)
            if proc is None:
                procs[name] = subprocess.Popen(ssh_base(state, vm) + ["true"],  # noqa: S603
                                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL)
            elif proc.poll() is not None:
                del procs[name]
                if proc.returncode == 0:
                    vm["boot_seconds"] = round(time.monotonic() - start, 1)
                    log(f"{name}: SSH answers on 127.0.0.1:{vm['ssh_port']} after {fmt_secs(vm['boot_seconds'])}")
                    del pending[name]
        if not pending:
            break
        if time.monotonic() > deadline:
            details = "\n".join(f"--- {name}: serial log tail ({vm['serial_log']}):\n{serial_tail(vm)}"
                                for name, vm in pending.items())
            raise VmlabError(f"timeout: no SSH after {fmt_secs(timeout)} on {', '.join(pending)} "
                             f"(LINUXNET_VMLAB_BOOT_TIMEOUT raises the limit)\n{details}")
        time.sleep(0.5)


def lab_up(lab: str, vms: list[dict], *, replace: bool = False, timeout: float | None = None) -> dict:
    need("qemu-system-x86_64", "qemu-img", "ssh", "ssh-keygen")
    ldir = lab_dir(lab)
    if os.path.exists(ldir):
        if not replace:
            raise VmlabError(f"lab {lab} exists ({ldir}); run `vmlab.py down --lab {lab}` first, or use --replace")
        log(f"lab {lab} exists: tearing it down first (--replace)")
        lab_down(lab)
    images = {}
    for image in sorted({vm["image"] for vm in vms}):
        images[image] = build_image(image)
    if timeout is None:
        timeout = float(os.environ.get("LINUXNET_VMLAB_BOOT_TIMEOUT", "300"))
    accel = accelerator()
    os.makedirs(ldir)
    state = {"lab": lab, "dir": ldir, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "accel": accel,
             "key": os.path.join(ldir, "id_ed25519"), "pubkey": os.path.join(ldir, "id_ed25519.pub"),
             "vms": [], "hubs": [], "segments": {}}
    save_state(state)
    try:
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"vmlab-{lab}", "-f", state["key"]], capture=True)
        segs = plan_segments(vms, ldir)
        state["segments"] = {name: {k: seg[k] for k in ("index", "mode", "members")} for name, seg in segs.items()}
        for idx, spec in enumerate(vms, start=1):
            vm = dict(spec)
            vm.update({
                "index": idx, "image_dir": images[spec["image"]],
                "overlay": os.path.join(ldir, f"{spec['name']}.qcow2"),
                "pidfile": os.path.join(ldir, f"{spec['name']}.pid"),
                "serial_log": os.path.join(ldir, f"{spec['name']}.serial.log"),
                "mgmt_mac": MGMT_MAC.format(vm=idx), "mgmt_ifname": f"ens{PCI_MGMT}", "ssh_port": None,
                "nics": [{"segment": seg, "mac": LAB_MAC.format(seg=segs[seg]["index"], vm=idx),
                          "pci": PCI_LAB_FIRST + n, "ifname": f"ens{PCI_LAB_FIRST + n}"}
                         for n, seg in enumerate(spec["segments"])],
            })
            state["vms"].append(vm)
        save_state(state)
        for name, seg in sorted(segs.items()):
            if seg["mode"] == "hub":
                start_hub(state, name, seg)
        with Step(f"start {len(vms)} VM(s) with {accel.upper()}"):
            for vm in state["vms"]:
                run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                     os.path.join(vm["image_dir"], "disk.qcow2"), vm["overlay"]], capture=True)
                start_vm(vm, vm["image_dir"], state, segs, accel)
                log(f"{vm['name']}: pid {vm['pid']}, ssh 127.0.0.1:{vm['ssh_port']}, serial log {vm['serial_log']}")
        with Step(f"wait for SSH on {len(vms)} VM(s) (timeout {fmt_secs(timeout)})"):
            wait_ssh(state, timeout)
        state["ready"] = True
        save_state(state)
    except BaseException as exc:
        log(f"lab {lab}: start failed ({type(exc).__name__}); cleaning up")
        try:
            lab_down(lab)
        except Exception as cleanup_exc:  # noqa: BLE001
            log(f"cleanup failed too: {cleanup_exc}")
        raise
    return state


def vm_restart(lab: str, name: str, timeout: float | None = None, *, wait_exit: float = 0.0) -> None:
    """Boot a VM of a running lab again (same overlay, segments and SSH port, so inventories stay valid).

    The VMs run with -no-reboot: a guest reboot or poweroff ends its qemu. With wait_exit > 0,
    first wait up to that many seconds for the qemu to exit (e.g. after `reboot` in the guest);
    a qemu still running after that is stopped.
    """
    state = require_state(lab)
    vm = next((v for v in state["vms"] if v["name"] == name), None)
    if vm is None:
        raise VmlabError(f"lab {lab} has no VM {name}")
    pid = read_pidfile(vm["pidfile"]) or vm.get("pid")
    deadline = time.monotonic() + wait_exit
    while is_ours(pid, vm["pidfile"], "qemu-system") and time.monotonic() < deadline:
        time.sleep(0.5)
    stop_processes([(pid, vm["pidfile"], "qemu-system", f"VM {name}")])
    segs = plan_segments(state["vms"], state["dir"])
    if timeout is None:
        timeout = float(os.environ.get("LINUXNET_VMLAB_BOOT_TIMEOUT", "300"))
    with Step(f"{name}: boot again on 127.0.0.1:{vm['ssh_port']}"):
        start_vm(vm, vm["image_dir"], state, segs, state["accel"], port=vm["ssh_port"])
        wait_ssh(dict(state, vms=[vm]), timeout)


# ---------------------------------------------------------------- inventory / instances

def _yaml_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value))


def to_yaml(obj, indent: int = 0) -> str:
    """A tiny YAML emitter for dicts, lists and scalars (enough for inventories)."""
    pad = "  " * indent
    lines = []
    if isinstance(obj, dict):
        for key, val in obj.items():
            if isinstance(val, (dict, list)) and val:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(val, indent + 1))
            elif isinstance(val, (dict, list)):
                lines.append(f"{pad}{key}: {'{}' if isinstance(val, dict) else '[]'}")
            else:
                lines.append(f"{pad}{key}: {_yaml_scalar(val)}")
    elif isinstance(obj, list):
        for val in obj:
            if isinstance(val, dict) and val:
                inner = to_yaml(val, indent + 1).splitlines()
                lines.append(f"{pad}- {inner[0].strip()}")
                lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {_yaml_scalar(val)}")
    return "\n".join(lines)


def require_state(lab: str) -> dict:
    state = load_state(lab)
    if not state or not state.get("vms"):
        raise VmlabError(f"lab {lab} is not up (no {state_path(lab)})")
    return state


def inventory(state: dict) -> dict:
    hosts = {}
    groups: dict[str, dict] = {}
    for vm in state["vms"]:
        hosts[vm["name"]] = {
            "ansible_host": "127.0.0.1",
            "ansible_port": vm["ssh_port"],
            "vmlab_index": vm["index"],
            "vmlab_image": vm["image"],
            "vmlab_mgmt_nic": vm["mgmt_ifname"],
            "vmlab_lab_nics": {nic["segment"]: nic["ifname"] for nic in vm["nics"]},
        }
        for nic in vm["nics"]:
            groups.setdefault(f"segment_{nic['segment'].replace('-', '_')}", {"hosts": {}})["hosts"][vm["name"]] = {}
    return {"all": {
        "vars": {
            "ansible_user": "root",
            "ansible_ssh_private_key_file": state["key"],
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                                       "-o LogLevel=ERROR -o IdentitiesOnly=yes",
            "ansible_host_key_checking": False,
            "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_pipelining": True,
            "vmlab_lab": state["lab"],
        },
        "hosts": hosts,
        "children": groups,
    }}


def molecule_instances(state: dict) -> list[dict]:
    return [{"instance": vm["name"], "address": "127.0.0.1", "user": "root", "port": vm["ssh_port"],
             "identity_file": state["key"]} for vm in state["vms"]]


# ---------------------------------------------------------------- hub

def relay_paths(member_socket: str) -> tuple[str, str]:
    """(switch, log) of the reflective relay on the hub port of a member: s1-vm1.sock -> s1-vm1.relay(.jsonl)."""
    base = member_socket[:-len(".sock")] if member_socket.endswith(".sock") else member_socket
    return base + ".relay", base + ".relay.jsonl"


def describe_frame(frame: bytes) -> dict:
    """What a reader of the relay log needs: MACs, ethertype and, for IPv4, addresses and protocol."""
    def mac(raw: bytes) -> str:
        return ":".join(f"{b:02x}" for b in raw)
    out = {"dst": mac(frame[0:6]), "src": mac(frame[6:12]), "ethertype": int.from_bytes(frame[12:14], "big")}
    if out["ethertype"] == 0x0800 and len(frame) >= 34:
        out.update(ip_src=socket.inet_ntoa(frame[26:30]), ip_dst=socket.inet_ntoa(frame[30:34]), ip_proto=frame[23])
    return out


def hub_targets(fdb: dict[bytes, str], members: list[str], sender: str, frame: bytes) -> list[str]:
    """Where a learning switch sends a frame: the port its destination was learned on, else every other port.
    A frame for a MAC learned on the sender's own port goes nowhere, unless that port is a reflective
    relay (IEEE 802.1Qbg, what a VEPA needs: ipvlan's vepa flag sends slave-to-slave frames out with
    the master's MAC as source and destination): then it goes back out the port it came in on."""
    dst, src = frame[0:6], frame[6:12]
    if not src[0] & 1:
        fdb[src] = sender
    if dst in fdb and not dst[0] & 1:
        port = fdb[dst]
        if port != sender:
            return [port]
        return [sender] if os.path.exists(relay_paths(sender)[0]) else []
    return [m for m in members if m != sender]


def run_hub(args) -> int:
    """A learning L2 switch over AF_UNIX datagram sockets (one frame per datagram); any port can be
    made a reflective relay at run time (`vmlab.py relay`), which logs every frame it sends back."""
    members = [os.path.abspath(m) for m in args.member]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(args.socket)
    sock.bind(args.socket)
    write_atomic(args.pidfile, f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
    fdb: dict[bytes, str] = {}
    last_check = time.monotonic()
    while True:
        ready = select.select([sock], [], [], 5)[0]
        if time.monotonic() - last_check >= 5:
            last_check = time.monotonic()
            if not os.path.isdir(args.lab_dir):
                return 0
        if not ready:
            continue
        frame, sender = sock.recvfrom(65536)
        if sender not in members or len(frame) < 14:
            continue
        for target in hub_targets(fdb, members, sender, frame):
            if target == sender:
                with open(relay_paths(sender)[1], "a", encoding="utf-8") as relay_log:
                    relay_log.write(json.dumps(describe_frame(frame)) + "\n")
            try:
                sock.sendto(frame, target)
            except OSError as exc:
                if exc.errno not in (errno.ENOENT, errno.ECONNREFUSED, errno.EAGAIN, errno.ENOBUFS):
                    raise


def relay(lab: str, vm_name: str, segment: str, action: str) -> list[dict] | None:
    """Switch the reflective relay of VM's port on a hub segment on (emptying its log) or off,
    or read its log: the frames it sent back, oldest first."""
    state = require_state(lab)
    segs = plan_segments(state["vms"], state["dir"])
    if segment not in segs or vm_name not in segs[segment]["members"]:
        raise VmlabError(f"lab {lab}: {vm_name} has no NIC on segment {segment}")
    if state["segments"][segment]["mode"] != "hub":
        raise VmlabError(f"lab {lab}: segment {segment} joins its two VMs directly, with no switch to relay: "
                         "boot the lab with LINUXNET_VMLAB_FORCE_HUB=1")
    switch, log_path = relay_paths(segs[segment]["sockets"][vm_name])
    if action == "on":
        write_atomic(log_path, "")
        write_atomic(switch, "on\n")
    elif action == "off":
        with contextlib.suppress(FileNotFoundError):
            os.unlink(switch)
    else:
        with contextlib.suppress(FileNotFoundError), open(log_path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
        return []
    return None


# ---------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vmlab.py", description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("build", help="build or reuse a cached image")
    p.add_argument("--image", choices=sorted(IMAGES), action="append",
                   help="image to build (repeatable; default bookworm)")
    p.add_argument("--force", action="store_true", help="rebuild even if cached")

    sub.add_parser("prune", help="remove cached images of older recipes (unless a lab uses them)")

    p = sub.add_parser("up", help="boot a lab")
    p.add_argument("--lab", required=True)
    p.add_argument("--spec", help='JSON file ("-" for stdin): {"vms": [{"name", "image", "memory", "cpus", "segments"}]}')
    p.add_argument("--vm", action="append", metavar="NAME[:IMAGE[:SEG,...]]", help="a VM (repeatable)")
    p.add_argument("--replace", action="store_true", help="tear down an existing lab of that name first")
    p.add_argument("--timeout", type=float, help="seconds to wait for SSH (default $LINUXNET_VMLAB_BOOT_TIMEOUT or 300)")
    p.add_argument("--inventory", metavar="FILE", help="also write an Ansible inventory there")

    p = sub.add_parser("down", help="stop a lab and remove it")
    p.add_argument("--lab", required=True)

    p = sub.add_parser("restart", help="boot one VM of a lab again (same disk, segments, SSH port)")
    p.add_argument("--lab", required=True)
    p.add_argument("--vm", required=True)
    p.add_argument("--wait-exit", type=float, default=0.0, metavar="SECONDS",
                   help="first wait this long for the guest to power off (reboot in the guest ends qemu)")
    p.add_argument("--timeout", type=float, help="seconds to wait for SSH")

    p = sub.add_parser("inventory", help="print or write the Ansible inventory of a lab")
    p.add_argument("--lab", required=True)
    p.add_argument("--output", "-o", metavar="FILE")

    p = sub.add_parser("instances", help="print the Molecule instance config of a lab (JSON)")
    p.add_argument("--lab", required=True)

    p = sub.add_parser("status", help="print the state of a lab (JSON)")
    p.add_argument("--lab", required=True)

    p = sub.add_parser("relay", help="reflective relay on a VM's port of a hub segment: on, off, or show its log")
    p.add_argument("--lab", required=True)
    p.add_argument("--vm", required=True)
    p.add_argument("--segment", required=True)
    p.add_argument("action", choices=["on", "off", "show"])

    p = sub.add_parser("hub")
    p.add_argument("--pidfile", required=True)
    p.add_argument("--socket", required=True)
    p.add_argument("--lab-dir", required=True)
    p.add_argument("--member", action="append", default=[])

    args = parser.parse_args(argv)
    install_exit_signals()
    try:
        if args.cmd == "build":
            for image in args.image or ["bookworm"]:
                print(build_image(image, force=args.force))
        elif args.cmd == "prune":
            prune_images()
        elif args.cmd == "up":
            vms = load_spec(args.spec, args.vm)
            state = lab_up(args.lab, vms, replace=args.replace, timeout=args.timeout)
            if args.inventory:
                write_inventory(state, args.inventory)
            for vm in state["vms"]:
                print(" ".join(ssh_base(state, vm)[:-1] + ["127.0.0.1"]) + f"   # {vm['name']}")
        elif args.cmd == "down":
            lab_down(args.lab)
        elif args.cmd == "restart":
            vm_restart(args.lab, args.vm, args.timeout, wait_exit=args.wait_exit)
        elif args.cmd == "inventory":
            state = require_state(args.lab)
            if args.output:
                write_inventory(state, args.output)
            else:
                print(to_yaml(inventory(state)))
        elif args.cmd == "instances":
            print(json.dumps(molecule_instances(require_state(args.lab))))
        elif args.cmd == "status":
            state = load_state(args.lab)
            if state is None:
                raise VmlabError(f"lab {args.lab} is not up")
            for vm in state.get("vms", []):
                vm["running"] = is_ours(read_pidfile(vm["pidfile"]), vm["pidfile"], "qemu-system")
            print(json.dumps(state, indent=2))
        elif args.cmd == "relay":
            frames = relay(args.lab, args.vm, args.segment, args.action)
            if frames is not None:
                print(json.dumps(frames))
        elif args.cmd == "hub":
            return run_hub(args)
    except VmlabError as exc:
        print(f"vmlab: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vmlab: interrupted", file=sys.stderr)
        return 130
    return 0


def install_exit_signals() -> None:
    """SIGTERM/SIGHUP raise SystemExit, so that a half-started lab is still torn down."""
    def _exit(signum, _frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit)


def write_inventory(state: dict, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomic(path, "# Written by tests/vmlab/vmlab.py for lab " + state["lab"] + "\n"
                 + to_yaml(inventory(state)) + "\n", 0o600)
    log(f"inventory written to {path}")


if __name__ == "__main__":
    sys.exit(main())
