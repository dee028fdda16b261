# Alga PSA appliance: build the two C programs, run the tests, the demo and
# the offline render. `make help` lists the targets.

PROFILE    ?= appliance/flux/profiles/talos-single-node
RENDER_DIR ?= build/render

CC       ?= cc
CFLAGS   ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wformat-security \
            -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wpointer-arith \
            -Wcast-qual -Wwrite-strings -Wundef -Wnull-dereference
HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
PQ_INC   := $(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
ALL_CFLAGS = -std=c17 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
             -Isrc -I$(PQ_INC) $(WARNINGS) $(CFLAGS)
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all
LDLIBS_BOOTSTRAP := -lpq -lyaml
LDLIBS_APPLIANCE := -lyaml

LIB_SRC       := $(wildcard src/lib/*.c)
BOOTSTRAP_SRC := $(wildcard src/bootstrap/*.c)
APPLIANCE_SRC := $(wildcard src/appliance/*.c)
UNIT_SRC      := $(wildcard tests/unit/test_*.c)
C_FILES       := $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h \
                   bench/*.c)
SHELL_FILES   := $(wildcard scripts/*.sh scripts/lib/*.sh appliance/scripts/*.sh \
                   tests/*/*.sh bench/*.sh fuzz/*.sh appliance/demo/*.sh) \
                 tests/run .ci/run

obj = $(patsubst %.c,build/obj/%.o,$(1))
asan_obj = $(patsubst %.c,build/asan/%.o,$(1))
# Objects that unit tests link against: every module but the main files.
MODULE_SRC := $(LIB_SRC) $(filter-out %/main.c,$(BOOTSTRAP_SRC) $(APPLIANCE_SRC))

PROGRAMS :=
ifneq ($(BOOTSTRAP_SRC),)
PROGRAMS += build/bin/alga-bootstrap build/asan/bin/alga-bootstrap
endif
ifneq ($(APPLIANCE_SRC),)
PROGRAMS += build/bin/alga-appliance build/asan/bin/alga-appliance
endif
UNIT_TESTS := $(patsubst tests/unit/%.c,build/tests/%,$(UNIT_SRC))

.PHONY: all help tools build build-tests test demo demo-clean render verify \
        bench fmt fmt-check lint clean

all: build

help:
	@echo 'make demo        the local appliance: render, boot twice, show what happened'
	@echo 'make test        every test suite; ends with "N passed, N failed"'
	@echo 'make tools       install what is missing (Debian packages, Helm 3 and 4, schemas)'
	@echo 'make build       build/bin/alga-bootstrap and build/bin/alga-appliance'
	@echo 'make render      render $(PROFILE) into $(RENDER_DIR)'
	@echo 'make verify      check $(RENDER_DIR) against the appliance rules'
	@echo 'make bench       the benchmarks, medians side by side'
	@echo 'make fmt         format the C sources; make fmt-check only checks'
	@echo 'make lint        cppcheck and shellcheck'
	@echo 'make demo-clean  remove the demo data; make clean removes build/'

# Always asks: the script is quick when nothing is missing, and it notices
# a deleted binary or a moved checkout, which a stamp file would not.
tools:
	@scripts/install-tools.sh

build: tools $(PROGRAMS)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HARDEN) -MMD -MP -c -o $@ $<

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANITIZE) -MMD -MP -c -o $@ $<

build/bin/alga-bootstrap: $(call obj,$(LIB_SRC) $(BOOTSTRAP_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -pie -Wl,-z,relro,-z,now -o $@ $^ $(LDLIBS_BOOTSTRAP)

build/bin/alga-appliance: $(call obj,$(LIB_SRC) $(APPLIANCE_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -pie -Wl,-z,relro,-z,now -o $@ $^ $(LDLIBS_APPLIANCE)

build/asan/bin/alga-bootstrap: $(call asan_obj,$(LIB_SRC) $(BOOTSTRAP_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(SANITIZE) -o $@ $^ $(LDLIBS_BOOTSTRAP)

build/asan/bin/alga-appliance: $(call asan_obj,$(LIB_SRC) $(APPLIANCE_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(SANITIZE) -o $@ $^ $(LDLIBS_APPLIANCE)

# Unit tests run under ASan and UBSan.
build/tests/%: tests/unit/%.c $(call asan_obj,$(MODULE_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANITIZE) -Itests/unit -o $@ $^ \
		$(LDLIBS_BOOTSTRAP) $(LDLIBS_APPLIANCE)

build-tests: $(UNIT_TESTS)

test: build build-tests
	tests/run

demo: build
	scripts/demo.sh

demo-clean:
	scripts/demo.sh --clean

# Helm 4 and kubectl from `make tools` unless HELM / KUBECTL say otherwise.
render: build
	. ./.tools/env && HELM="$${HELM:-$$HELM4}" KUBECTL="$$KUBECTL" \
		build/bin/alga-appliance render $(PROFILE) --out $(RENDER_DIR)

verify: render
	build/bin/alga-appliance verify $(RENDER_DIR) --rules $(PROFILE)/rules.yaml

bench: build
	@set -e; for b in bench/bench-*.sh; do [ -e "$$b" ] && "$$b"; done

fmt:
	clang-format -i $(C_FILES)

fmt-check:
	clang-format --dry-run --Werror $(C_FILES)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
		--std=c11 --inline-suppr -Isrc $(filter %.c,$(C_FILES))
	shellcheck -x $(SHELL_FILES)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
