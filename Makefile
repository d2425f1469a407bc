# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pager's own bytecode, as pip writes it for an installed package and the image
# has it: an editable install has none, and with PYTHONDONTWRITEBYTECODE=1 every
# start compiled pager's ~110 modules again (~0.1 s of start to ready). A .pyc
# older than its source is ignored, so this is repeated before run (bench
# compiles the trees its daemons run from itself: bench/procs.compile_pager).
COMPILE := $(PY) -m compileall -q pager

.PHONY: run test lint fmt bench chaos clean

$(STAMP): pyproject.toml constraints.txt
	@echo "installing pager and its dependencies into $(VENV) (once; about a minute)..."
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install --progress-bar off -c constraints.txt -e '.[dev]'
	$(COMPILE)
	touch $(STAMP)
	@echo "installed; $(VENV)/bin/pager is ready"

## run: serve on 127.0.0.1:8080 with the example policies and an embedded SQLite database;
## the web console's users are in web.yml (`.venv/bin/pager web-user add alice` makes the first)
run: export PAGER_WEB_CONFIG ?= web.yml
run: $(STAMP)
	$(COMPILE)
	$(VENV)/bin/pager serve

## test: install what the tests need (PostgreSQL up, Alertmanager, Prism, promtool, helm-sdkpy), run them all
## on TEST_WORKERS pytest-xdist workers (2, one a core of CI's machine; 0 runs them in one process).
## The workers are here, not in pyproject's addopts, so `pytest tests/x.py` stays one plain process.
TEST_WORKERS ?= 2
test: $(STAMP)
	bash .ci/install-test-tools.sh
	$(VENV)/bin/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check pager tests bench alembic
	$(VENV)/bin/ruff format --check pager tests bench alembic
	$(VENV)/bin/mypy

fmt: $(STAMP)
	$(VENV)/bin/ruff format pager tests bench alembic
	$(VENV)/bin/ruff check --fix pager tests bench alembic

bench: $(STAMP)
	bash .ci/install-test-tools.sh
	$(PY) -m bench $(BENCH_ARGS)

## chaos: the fault suite's long form (random kills over 1,000+ pages, 3 replicas); see RELIABILITY.md
chaos: $(STAMP)
	bash .ci/install-test-tools.sh
	$(PY) -m bench --only chaos $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache pager.db pager.db-wal pager.db-shm
