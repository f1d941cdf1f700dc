# Copyright (c) linuxnet.ipvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# linuxnet.ipvlan: one entry point for setup, tests and the VM lab.
#   make lab        build/reuse the VM image, boot a 2-VM lab, apply the HOWTO topology, print a ping matrix, draw build/lab/fleet.svg
#   make lab-down   tear the lab down
#   make test       set up everything and run every test (what .ci/run calls)
#   make matrix     unit, sanity and tarball tests on ansible-core 2.16-2.21, host tests on 2.16 and 2.21
#   make test-properties-long   the property tests' long run (LINUXNET_PROPERTY_EXAMPLES examples, default 2000)
#   make bench      benchmarks, not in make test: BENCH=host (default, this kernel) or all (+ a lab VM)
# Fast partial targets: test-unit, test-host, test-properties, sanity, lint, release-check, molecule SCENARIO=<name>.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= $(CURDIR)/.venv
VENV072 ?= $(CURDIR)/.venv-pyroute2-072
BUILD ?= $(CURDIR)/build
COLLECTIONS ?= $(BUILD)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/linuxnet/ipvlan
SCENARIOS ?= lab-smoke modules wire default fleet persistence
SCENARIO ?= lab-smoke

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export PATH := $(VENV)/bin:$(PATH)

APT_PACKAGES := qemu-system-x86 qemu-utils mmdebstrap e2fsprogs openssh-client \
	iproute2 iputils-ping python3-venv python3-pyroute2 rsync shellcheck graphviz

.PHONY: help setup apt venv collection test test-host-side test-vm-side test-unit test-host test-properties \
	test-properties-long sanity matrix release-check lint changelog-lint molecule molecule-all lab lab-down build \
	install-collection clean bench

help:
	@sed -n 's/^#  *make /  make /p; s/^# Fast/Fast/p' $(firstword $(MAKEFILE_LIST))

setup: apt venv collection

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo ">> apt-get install $$missing"; \
		apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/.stamp: tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r tests/requirements.txt
	touch $@

$(VENV072)/.stamp: tests/requirements-pyroute2-072.txt
	$(PYTHON) -m venv $(VENV072)
	$(VENV072)/bin/pip install -q -r tests/requirements-pyroute2-072.txt
	touch $@

venv: $(VENV)/.stamp $(VENV072)/.stamp

# ansible finds the collection through a symlink; ansible-test needs a real copy (see sanity).
collection:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(CURDIR) $(COLLECTION_LINK)

# The matrix runs the unit, sanity and host integration tests (on the ansible-core series it names).
# The host side (CPU: ansible-core matrix, host kernel tests, linters) and the VM side (Molecule
# under TCG) share nothing but the CPU, so they run side by side; -O keeps each side's output whole.
test: setup
	$(MAKE) --no-print-directory -O -j2 test-host-side test-vm-side

# Each side runs its steps one after the other (make -j2 would otherwise run them in parallel too).
test-host-side:
	$(MAKE) --no-print-directory -j1 matrix release-check lint changelog-lint

test-vm-side:
	$(MAKE) --no-print-directory -j1 molecule-all

test-unit: venv collection
	$(VENV)/bin/pytest -q tests/unit

test-host: setup
	$(VENV)/bin/pytest -q tests/integration

# The property tests alone (also part of test-host): profile ci, a fixed set of examples.
test-properties: setup
	$(VENV)/bin/pytest -q --hypothesis-show-statistics tests/integration/test_properties.py \
		tests/integration/test_property_findings.py

# Random examples until LINUXNET_PROPERTY_EXAMPLES (a quarter of them under pyroute2 0.7); a failure is
# kept in build/hypothesis and replayed first next time.
test-properties-long: setup
	HYPOTHESIS_PROFILE=long $(VENV)/bin/pytest -q --hypothesis-show-statistics \
		tests/integration/test_properties.py -k check_mode_says

sanity: venv
	bash tests/sanity.sh

# noxfile.py: one session per ansible-core series, each in its own cached venv (~/.cache/linuxnet-ipvlan/nox).
MATRIX ?= core-2.16 core-2.17 core-2.18 core-2.19 core-2.20 core-2.21
matrix: setup
	$(VENV)/bin/nox --no-color -s $(MATRIX)

release-check: venv collection
	$(VENV)/bin/nox --no-color -s release

# ANSIBLE_HOME: ansible-lint (offline) prepends $$ANSIBLE_HOME/collections, so a stale copy of this
# collection in ~/.ansible/collections would shadow the checkout.
lint: venv collection
	ANSIBLE_HOME=$(BUILD)/ansible-lint-home $(VENV)/bin/ansible-lint --profile production

changelog-lint: venv
	$(VENV)/bin/antsibull-changelog lint
	$(VENV)/bin/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

molecule: setup
	$(VENV)/bin/molecule test -s $(SCENARIO)

molecule-all: setup
	@for s in $(SCENARIOS); do echo ">> molecule test -s $$s"; $(VENV)/bin/molecule test -s $$s || exit 1; done

BENCH ?= host
BENCH_ARGS ?=

bench: setup
	$(VENV)/bin/python tests/benchmarks/bench.py --parts $(BENCH) --venv $(VENV) $(BENCH_ARGS)

lab: setup
	$(VENV)/bin/python tests/vmlab/lab.py up

lab-down: venv
	$(VENV)/bin/python tests/vmlab/lab.py down

build: venv
	$(VENV)/bin/ansible-galaxy collection build --force --output-path $(BUILD)

clean:
	rm -rf $(BUILD) $(VENV) $(VENV072)
