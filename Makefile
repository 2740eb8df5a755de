# Two commands on a fresh machine:  `make run` (set up, then the main job) and `make test` (set up, then the tests).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done

.PHONY: setup run test lint bench bench-setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

run: setup
	$(VENV)/bin/synthloop run --config configs/tinystories.toml

# pytest exits 5 when it collects no test: treat that as a failure too.
test: setup
	@$(PY) -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks scripts && $(VENV)/bin/ruff format --check src tests benchmarks scripts && $(PY) -m mypy

bench: setup
	$(PY) benchmarks/generate_throughput.py

# The peers benchmarks/serving_throughput.py compares with (Curator, distilabel: the `bench` extra), in an environment
# of their own: their pins conflict with synthloop's.
bench-setup: setup
	test -x .venv-bench/bin/python || python3 -m venv .venv-bench
	.venv-bench/bin/python -m pip install -q -e ".[bench]"

clean:
	rm -rf $(VENV) .venv-bench data report runs .pytest_cache .mypy_cache .ruff_cache
