# The two commands: `make run` (every task of robot.yaml run as rcc runs them, against the sandbox; leaves
# output/log.html and output/report.html) and `make test` (everything CI runs). Both create .venv themselves;
# the robots run in their own environment, built from conda.yaml (tests/robots/rcc.py) and cached by its hash.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PORT ?=

.PHONY: run test unit integration acceptance robots lint bench figures docs matrix clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[sandbox,redis]" pyyaml
	touch $(STAMP)

# The test venv also gets the sample robots' packages at conda.yaml's pins (rpaframework for the peer tests).
$(TEST_STAMP): $(STAMP) conda.yaml
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) tools/pins.py --requirements > $(VENV)/robot-requirements.txt
	$(PY) -m pip install --quiet -r $(VENV)/robot-requirements.txt || { \
	  case "$$CI" in ""|0|false|no) ;; *) echo "CI: the robots' packages could not be installed (peer tests would skip)" >&2; exit 1;; esac; \
	  echo "robot packages not installed: peer tests will be skipped (CI fails here)"; }
	touch $(TEST_STAMP)

# PORT= moves the sandbox off devdata's 8700 (the tasks then read a copy of env.json with that port).
run: $(STAMP)
	$(PY) tools/run_all.py $(if $(PORT),--port $(PORT))

test: $(TEST_STAMP) lint unit integration acceptance robots

lint: $(TEST_STAMP)
	$(PY) -m ruff check src tests bench tools robots
	$(PY) -m ruff format --check src tests bench tools robots
	$(PY) -m mypy
	$(PY) -m mypy --python-version 3.10 src/Connectors/Robaws.pyi src/Connectors/Cobot.pyi src/Connectors/ControlRoom.pyi src/Connectors/Robostack.pyi
	$(PY) tools/make_docs.py --check
	$(PY) tools/make_operations.py --check
	$(PY) -m robocop check --reports all robots tests/acceptance

unit: $(TEST_STAMP)
	$(PY) -m pytest -q tests/unit

integration: $(TEST_STAMP)
	$(PY) -m pytest -q tests/integration tests/reliability

acceptance: $(TEST_STAMP)
	$(PY) tools/run_acceptance.py

# Every robot.yaml task run as rcc runs it, with devdata/ alone, and what the runs must show (tests/robots).
robots: $(TEST_STAMP)
	$(PY) -m pytest -q tests/robots

bench: $(TEST_STAMP)
	$(PY) bench/scale.py
	$(PY) bench/throughput.py
	$(PY) bench/overhead.py
	$(PY) bench/memory.py
	$(PY) bench/controlroom_wait.py
	$(PY) bench/cobot_memberships.py
	$(PY) bench/exactly_once.py
	$(PY) bench/worker_count.py
	$(PY) bench/fault_matrices.py
	$(PY) bench/fanout_store.py

# Every figure of docs/figures.md re-measured by the command printed beside it (the cheap ones, about ten minutes;
# FIGURES=--all adds the scale and economy tables and the receiver's kill loops).
figures: $(TEST_STAMP)
	$(PY) bench/figures.py $(FIGURES)

# The oldest and newest Python the package claims, with Robot Framework 7.4 and the newest 7.x.
matrix: $(STAMP)
	$(PY) tools/matrix.py

# Libdoc pages, stubs and tables regenerated, the site built strictly (output/site), its examples run and counted.
docs: $(TEST_STAMP)
	$(PY) tools/make_docs.py --site
	$(PY) tools/run_examples.py

# The wheel built warning-free, installed in a clean virtualenv, a user's own robot run from it (tools/user_project.py).
.PHONY: user-project
user-project: $(TEST_STAMP)
	$(PY) tools/user_project.py

clean:
	rm -rf $(VENV) output .pytest_cache .mypy_cache .ruff_cache
