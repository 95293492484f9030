# Two commands on a fresh clone: `make demo` and `make test`. Both do their own set-up.
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
# pip warns about index folders this machine configures but lacks; they are noise.
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= demo-output

.PHONY: demo test bench mutate lint format lock clean setup fonts

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@bash .ci/system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-virtualenv -r requirements.lock $(QUIET_PIP)
	$(BIN)/python -m pip install --quiet --require-virtualenv --no-deps --no-build-isolation -e . $(QUIET_PIP)
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/toolkit demo --out $(OUT)

test: $(STAMP)
	@bash .ci/system-deps --test
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The pre-built font subsets (templates/fonts/prebuilt/), after a font or PREBUILT_GLYPHS changes.
fonts: $(STAMP)
	$(BIN)/python -c "from toolkit.documents import prebuild_fonts; print(*prebuild_fonts(), sep='\n')"

# Mutation testing (not part of `make test`): every core module, or MODULE=path/to/module.py.
mutate: $(STAMP)
	$(BIN)/python tests/mutation/run.py $(MODULE)

lint: $(STAMP)
	$(BIN)/ruff check toolkit schemas tests benchmarks
	$(BIN)/ruff format --check toolkit schemas tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format toolkit schemas tests benchmarks
	$(BIN)/ruff check --fix toolkit schemas tests benchmarks

# Re-resolve the lock (needs uv); the lock is what every install uses.
lock:
	uv pip compile pyproject.toml --extra test --extra spark --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) $(OUT) build dist .pytest_cache .mutants
