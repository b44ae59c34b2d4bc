# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# Each step leaves a stamp in .make/, so a second call skips what is already done.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .make
GRAPHIQL_DIR := danbyte/static/graphiql

.PHONY: run test bench setup clean

setup: $(STAMPS)/venv $(GRAPHIQL_DIR)/.complete

$(STAMPS)/venv: pyproject.toml clients/nornir_danbyte/pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# compat mode puts the repository on sys.path, so new top-level packages need no reinstall
	$(BIN)/pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	# the Nornir plugin and the GraphQL client the Ansible collection imports (tests point ANSIBLE_COLLECTIONS_PATH at clients/)
	$(BIN)/pip install --quiet -e clients/nornir_danbyte
	@touch $@

$(GRAPHIQL_DIR)/.complete: scripts/fetch_graphiql.sh
	bash scripts/fetch_graphiql.sh $(GRAPHIQL_DIR)

$(STAMPS)/chromium: scripts/install_chromium.sh
	@mkdir -p $(STAMPS)
	bash scripts/install_chromium.sh
	@touch $@

run: setup
	$(BIN)/danbyte serve

test: setup $(STAMPS)/chromium
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# BENCH_ARGS go to the IPAM benchmark, DCIM_BENCH_ARGS to the DCIM one, WRITES_BENCH_ARGS to the writes one,
# NETBOX_BENCH_ARGS to the NetBox import one, DISCOVERY_BENCH_ARGS to the discovery job one,
# CHECK_SCHEDULER_BENCH_ARGS to the check scheduler one
# (e.g. DCIM_BENCH_ARGS="--sites 5 --devices-per-site 10 --repeats 3").
bench: setup
	$(BIN)/python -m benchmarks.ipam $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.dcim $(DCIM_BENCH_ARGS)
	$(BIN)/python -m benchmarks.writes $(WRITES_BENCH_ARGS)
	$(BIN)/python -m benchmarks.netbox_import $(NETBOX_BENCH_ARGS)
	$(BIN)/python -m benchmarks.discovery_job $(DISCOVERY_BENCH_ARGS)
	$(BIN)/python -m benchmarks.check_scheduler $(CHECK_SCHEDULER_BENCH_ARGS)
	$(BIN)/python -m benchmarks.ws_fanout $(WS_BENCH_ARGS)
	$(BIN)/python -m benchmarks.inventory $(INVENTORY_BENCH_ARGS)

clean:
	rm -rf $(STAMPS) $(VENV) $(GRAPHIQL_DIR)
