# The two commands: `make run` (sandbox + every sample robot, leaves output/log.html) and
# `make test` (everything CI runs). Both create .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PORT ?= 8700

.PHONY: run test unit integration acceptance robots lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[sandbox,redis]" pyyaml
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m pip install --quiet "rpaframework==33.0.2" || echo "rpaframework not installed: peer tests will be skipped"
	touch $(TEST_STAMP)

run: $(STAMP)
	$(PY) tools/run_all.py --port $(PORT)

test: $(TEST_STAMP) lint unit integration acceptance robots

lint: $(TEST_STAMP)
	$(PY) -m ruff check src tests bench tools
	$(PY) -m ruff format --check src tests bench tools
	$(PY) -m mypy
	$(PY) -m mypy --python-version 3.10 src/Connectors/Robaws.pyi src/Connectors/Cobot.pyi src/Connectors/ControlRoom.pyi src/Connectors/Robostack.pyi
	$(PY) tools/make_docs.py --check
	$(PY) -m robocop check --reports all robots tests/acceptance

unit: $(TEST_STAMP)
	$(PY) -m pytest -q tests/unit

integration: $(TEST_STAMP)
	$(PY) -m pytest -q tests/integration tests/reliability

acceptance: $(TEST_STAMP)
	$(PY) tools/run_acceptance.py

robots: $(TEST_STAMP)
	$(PY) tests/robots/run_tasks.py --artifacts output/robots

bench: $(TEST_STAMP)
	$(PY) bench/throughput.py
	$(PY) bench/overhead.py
	$(PY) bench/memory.py
	$(PY) bench/controlroom_wait.py
	$(PY) bench/cobot_memberships.py

docs: $(STAMP)
	$(PY) tools/make_docs.py

clean:
	rm -rf $(VENV) output .pytest_cache .mypy_cache .ruff_cache
