# `make dev` and `make test` do every set-up step a fresh machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: dev test test-aws bench lint synth clean

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# bytecode caches, as a non-editable install writes them (a first `dev` then starts as fast as later ones)
	$(BIN)/python -m compileall -q stagewise libs services infra tools > /dev/null
	@touch $(STAMP)

dev: $(STAMP)
	$(BIN)/stagewise dev $(ARGS)

test: $(STAMP)
	$(BIN)/python -m ruff check stagewise libs services infra tools tests tests_aws bench
	$(BIN)/python -m pytest -n 2 --dist loadfile $(ARGS)

# Against a real AWS account (not run by CI): STAGEWISE_AWS_ACCOUNT_ID=<id> and its credentials in the environment.
test-aws: $(STAMP)
	$(BIN)/python -m pytest tests_aws $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

lint: $(STAMP)
	$(BIN)/python -m ruff check stagewise libs services infra tools tests tests_aws bench

synth: $(STAMP)
	$(BIN)/stagewise synth --stage dev --out out/

clean:
	rm -rf $(VENV) .stagewise out .pytest_cache
