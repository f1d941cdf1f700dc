# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hide_path.py PATH -- ARGV...: run ARGV with an empty, read-only tmpfs mounted over PATH.

Run it in a private mount namespace (``unshare --mount --propagation private -- python hide_path.py ...``):
the host keeps PATH as it is. test_privileges.py uses it to run the modules on a host whose system Python
has no pyroute2, for real.
"""

from __future__ import annotations

import ctypes
import os
import sys

MS_RDONLY = 1


def main() -> None:
    path, separator, *argv = sys.argv[1:]
    if separator != "--" or not argv:
        sys.exit(__doc__)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(b"none", path.encode(), b"tmpfs", MS_RDONLY, None) != 0:
        err = ctypes.get_errno()
        sys.exit(f"mount tmpfs on {path}: {os.strerror(err)}")
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
