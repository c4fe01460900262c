# PrivoChat. `make run` serves the app on http://127.0.0.1:$(PORT); `make test` runs every test.
PORT ?= 3000
PYTEST_ARGS ?=
BIN := .venv/bin

.PHONY: run test unit test-shuffled lint bench load venv system-deps sam-tools publish-site clean build

venv:
	@bash scripts/bootstrap.sh

run: venv
	PORT=$(PORT) $(BIN)/python -m infra.local_stack

system-deps:
	@bash scripts/install-system-deps.sh

sam-tools:
	@bash infra/sam-tools.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The browser's modules on Node's own runner, then pytest with coverage of
# functions/ (branch; the floor is set in pyproject.toml).
test: venv system-deps sam-tools lint
	node --test tests/js/
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)

# The fast habit (well under a minute, no server, no SAM): the browser's modules, then
# the Python tests marked unit (tests/conftest.py: UNIT_TESTS, on in-process fakes).
unit: venv
	node --test tests/js/
	$(BIN)/python -m pytest -p no:cacheprovider -q -m unit $(PYTEST_ARGS)

# The same tests in a random order, to prove each passes after any other; the seed is
# printed (again: SEED=<seed>). TESTS="tests/functions" shuffles another selection.
SEED ?=
TESTS ?= -m unit
test-shuffled: venv
	$(BIN)/python -m pytest -p no:cacheprovider -q $(TESTS) $(if $(SEED),--shuffle-seed $(SEED),--shuffle) $(PYTEST_ARGS)

# bench/README.md: the benchmark (~8 min on 2 cores, the code before issue 24 beside it); the full load run, then the chaos
# run (the load while the stack fails under it; CHAOS_ARGS="--rooms 5" to shrink it).
bench: venv system-deps
	$(BIN)/python -m bench.run $(ARGS)

load: venv system-deps
	$(BIN)/python -m bench.load $(ARGS)
	$(BIN)/python -m bench.chaos $(CHAOS_ARGS)

# The Lambda package (functions/build_lambda.py): build/lambda/ and build/lambda.zip, for
# python3.12 on arm64, with hash-based pycs and without boto3 or unused botocore models.
build: venv
	$(BIN)/python functions/build_lambda.py $(ARGS)

publish-site: venv
	$(BIN)/python -m infra.publish_site $(ARGS)

clean:
	rm -rf .venv .venv-sam .aws-sam .pytest_cache build
