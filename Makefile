# Two commands matter: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint bench postman load clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## make run: the whole stack (SecantusDB, RabbitMQ, SMTP sink, every service); prints the gateway URL.
run: install
	$(BIN)/python -m shared.devstack

## make test: installs what is needed, lints, runs every test against real MongoDB-protocol, RabbitMQ and SMTP.
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

## make bench: throughput and latency, printed as ratios against baselines measured in the same run.
bench: install
	$(BIN)/python -m bench $(SECTION)

clean:
	rm -rf var/mail var/*.log .pytest_cache
