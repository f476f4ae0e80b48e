# A newcomer needs two targets: `make demo` and `make test`. Both set up the environment first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export NO_PROXY := 127.0.0.1,localhost
export no_proxy := 127.0.0.1,localhost

.PHONY: all env redis browser demo test chaos bench mutate lint format clean messages

all: lint test

env: $(STAMP)

# The emulators (for the demo and the tests) are a second distribution in this repository.
$(STAMP): pyproject.toml emulators/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e ./emulators
	touch $(STAMP)

# The tests start their own redis-server and redis-sentinel processes on free ports; install the
# binaries if missing. Without redis-sentinel the tests run `redis-server --sentinel` instead.
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "redis-server not found: installing it"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server; \
	}
	@command -v redis-sentinel >/dev/null 2>&1 || { \
	  echo "redis-sentinel not found: installing it"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq redis-sentinel || { $$SUDO apt-get update -qq && \
	    $$SUDO apt-get install -y -qq redis-sentinel; } || \
	  echo "could not install redis-sentinel: the tests run redis-server --sentinel"; \
	}

# tests/browser drive Debian's chromium through its chromium-driver; install both if missing.
browser:
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || { \
	  echo "chromium or chromedriver not found: installing them"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; \
	}

demo: env
	$(BIN)/reachable demo

# The chaos tests run a few rounds in `make test` and their full count in `make chaos`.
# Tests run in TEST_WORKERS processes (pytest-xdist), each with its own Redis and ports.
TEST_WORKERS ?= 4
test: env redis browser
	REACHABLE_CHAOS_RUNS=$${REACHABLE_CHAOS_RUNS:-3} $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

# The full chaos run: 20 kills per publishing crash point, 200 random faults (100 kills, 20 Redis
# restarts, 20 Redis demotions, 20 frozen emulators, 40 429/5xx storms) and 20 Redis Sentinel
# failovers, with their reports printed.
chaos: env redis
	REACHABLE_CHAOS_RUNS=$${REACHABLE_CHAOS_RUNS:-20} \
	REACHABLE_CHAOS_FAULTS=$${REACHABLE_CHAOS_FAULTS:-200} \
	REACHABLE_CHAOS_FAILOVERS=$${REACHABLE_CHAOS_FAILOVERS:-20} $(BIN)/pytest -s tests/chaos

# Throughput, Redis cost, latency, memory, a burst, a mention's footprint and memory under a
# steady flow with retention, against the emulators (about 12 minutes).
bench: env redis
	$(BIN)/python -m benchmarks.bench --json benchmarks/last-run.json

# Mutation testing, not part of `make test`: mutmut alters the modules named in pyproject.toml
# ([tool.mutmut]) one small change at a time, runs the tests that reach each change, and the
# report gives the share each module's tests noticed, with every change they did not.
# Starts afresh each time (mutants/ is mutmut's working copy, ignored by git).
.PHONY: mutate
mutate: env redis
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/python tests/mutation/report.py

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: env
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info mutants

# Refresh the message template from the code, then each language's catalogue from it.
messages: env
	$(BIN)/pybabel extract --no-default-keywords -k _ -k N_ -k ngettext:1,2 --no-location \
	  --sort-output --project Reachable --msgid-bugs-address "" \
	  -o bridge/text/locale/reachable.pot bridge adapters app cli
	for po in bridge/text/locale/*/LC_MESSAGES/reachable.po; do \
	  [ -e "$$po" ] || continue; \
	  locale=$$(basename $$(dirname $$(dirname $$po))); \
	  $(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -l $$locale \
	    -i bridge/text/locale/reachable.pot -o $$po; \
	done
