# Two commands matter: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint bench postman load clean

NODE_STAMP := node_modules/.installed-stamp

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# newman (Postman's runner) for the collection test; npm ci installs exactly the locked versions.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

## make run: the whole stack (SecantusDB, RabbitMQ, SMTP sink, every service); prints the gateway URL.
run: install
	$(BIN)/python -m devtools.devstack

## make test: installs what is needed, lints, runs every test against real MongoDB-protocol, RabbitMQ and SMTP.
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

## make bench: throughput and latency, printed as ratios against baselines measured in the same run.
bench: install
	$(BIN)/python -m bench $(SECTION)

## make postman: the Postman collection against the running stack (start it with `make run` first).
postman: install
	npx --no-install newman run postman_collection.json --env-var baseUrl=$${BASE_URL:-http://127.0.0.1:8000}

## make load SERVICE=expense_service USERS=10 DURATION=30: Locust against one service's own port (needs `make run`);
## prints requests/s, p50, p95, p99; HTML report in load-reports/<service>.html.
load: install
	$(BIN)/python -m load $(SERVICE) --users $(or $(USERS),10) --duration $(or $(DURATION),30)

clean:
	rm -rf var/mail var/*.log .pytest_cache
