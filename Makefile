# Deux commandes suffisent sur une machine neuve (Python 3.11+ et pip) :
#   make run   — installe veille dans .venv et lance un cycle sur config.yaml
#   make test  — installe veille et ses outils de test dans .venv et lance tous les tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test demo check bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,postgres]'
	touch $(STAMP)

# Exit status 1 means "the cycle worked but some sources failed" (e.g. no network):
# it is reported, not treated as a failure of `make run`.
run: $(STAMP)
	@$(BIN)/veille --config config.yaml run; status=$$?; \
	if [ $$status -eq 1 ]; then echo "(certaines sources ont échoué : voir « .venv/bin/veille sources »)"; fi; \
	[ $$status -le 1 ]
test: $(STAMP)
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/veille demo

check: $(STAMP)
	$(BIN)/veille --config config.yaml check

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_matcher.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) outbox veille.db veille.db-wal veille.db-shm .pytest_cache
