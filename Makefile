# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.txt | cut -c1-12)

.PHONY: install run test test-fast lint typecheck bench demo clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m governance bootstrap --with-demo
	$(BIN)/streamlit run app.py --server.address localhost --server.port 8501

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: install
	$(BIN)/python -m pytest -n 2 -m "not slow and not browser"

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/run_all.py

demo: install
	$(BIN)/python -m governance demo

clean:
	rm -rf $(VENV)
