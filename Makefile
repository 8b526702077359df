# weir - plain make. Targets: all (library, weir, tests, benches), run, test,
# bench, fuzz, docs, clean. SANITIZE=1 builds everything with ASan+UBSan into
# build-san/, SANITIZE=thread with ThreadSanitizer into build-tsan/, so
# sanitized and normal objects never mix.

CC      ?= cc
PKGS := rdkafka libxxhash libmicrohttpd libcurl libpcre2-8 gnutls lmdb zlib snappy liblz4 libzstd
SANITIZE ?= 0

ifeq ($(SANITIZE),1)
BUILD   := build-san
OPT     := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SANITIZE),thread)
BUILD   := build-tsan
OPT     := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
else
BUILD   := build
OPT     := -O2 -g
endif

CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-format-truncation \
           -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS := $(OPT)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lrdkafka -lxxhash -lmicrohttpd -lcurl -lpcre2-8 -lgnutls -llmdb) -lpthread -lm

LIB_SRC   := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC   := src/weir.c $(wildcard src/cli/*.c)
UNIT_SRC  := $(wildcard tests/unit/*.c)
HELPER_SRC := $(wildcard tests/helpers/*.c)
BENCH_SRC := $(wildcard bench/*.c)
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libweir.a
WEIR      := $(BUILD)/weir
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.t)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
# Fuzz targets also build with a plain driver that replays their corpus,
# so every test run exercises them; `make fuzz` runs them under libFuzzer.
FUZZ_REPLAY := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%-replay)

# The dashboard's JS libraries (uPlot; playwright-core for its browser
# test) come from npm at build time, pinned by web/package-lock.json.
WEB_DEPS := web/node_modules/.package-lock.json

# examples/tweets replays three hours of tweets made by the generator with a
# fixed seed (11 MB, so made here rather than kept in git; its golden
# results are in examples/tweets/expected/).
TWEETS := examples/tweets/data/tweets.ndjson

.PHONY: all deps run test bench fuzz docs install clean FORCE
.SECONDARY:
all: $(WEIR) $(UNIT_BIN) $(HELPER_BIN) $(BENCH_BIN) $(FUZZ_REPLAY) $(WEB_DEPS) $(TWEETS)

deps:
	@scripts/deps.sh

# `weir --version` names the commit it was built from (git describe);
# $(BUILD)/version changes only when that does, so only then weir.c rebuilds.
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/version: FORCE
	@mkdir -p $(BUILD); echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
$(BUILD)/src/weir.o: $(BUILD)/version
$(BUILD)/src/weir.o: CFLAGS += -DWEIR_BUILD='"$(VERSION)"'
FORCE:

$(TWEETS): src/cli/gen_records.c | $(WEIR)
	@mkdir -p $(dir $@)
	$(WEIR) gen tweets --seed 42 -n 100000 --step-ms 108 > $@.tmp && mv $@.tmp $@

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"; $(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(WEIR): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%.t: $(BUILD)/tests/unit/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/helpers/%: $(BUILD)/tests/helpers/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/%-replay: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/replay_main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# run, test and bench install the Debian packages first, then build in a
# second make, whose flags (pkg-config) see the freshly installed libraries.
run: deps
	@$(MAKE) --no-print-directory $(WEIR) $(WEB_DEPS)
	scripts/run-demo.sh $(WEIR)

# Every test prints TAP; prove runs them all and fails if one fails.
# The real Apache Kafka broker's jars are fetched (once, into a cache) before
# prove runs tests side by side.
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory all
	@tests/peers/kafka.sh fetch
	WEIR=$(abspath $(WEIR)) BUILD=$(abspath $(BUILD)) prove -j2 $(UNIT_BIN) tests/integration/*.sh tests/e2e/*.sh tests/fuzz_replay.sh tests/sql_golden.sh

# docs/CONFIGURATION.md is printed by the binary from the connectors' option
# tables; tests/integration/config_docs.sh fails when it is not current.
docs: $(WEIR)
	$(WEIR) connectors --markdown > docs/CONFIGURATION.md

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	scripts/bench.sh $(BUILD)

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the dashboard
# and /docs (with the uPlot and Swagger UI files they load, and their
# licences) where serve looks for
# it (PREFIX/share/weir/web), and weir(1) made from the binary's --help.
PREFIX ?= /usr/local
WEB_FILES := web/index.html web/app.js web/style.css web/favicon.svg web/favicon.ico web/docs.html web/docs.js \
             web/node_modules/uplot/dist/uPlot.min.css web/node_modules/uplot/dist/uPlot.iife.min.js \
             web/node_modules/uplot/LICENSE web/node_modules/swagger-ui-dist/swagger-ui.css \
             web/node_modules/swagger-ui-dist/swagger-ui-bundle.js web/node_modules/swagger-ui-dist/LICENSE \
             web/node_modules/swagger-ui-dist/NOTICE
install: $(WEIR) $(WEB_DEPS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(WEIR) $(DESTDIR)$(PREFIX)/bin/weir
	for f in $(WEB_FILES); do install -D -m 644 $$f $(DESTDIR)$(PREFIX)/share/weir/$$f || exit 1; done
	scripts/manpage.sh $(WEIR) > $(DESTDIR)$(PREFIX)/share/man/man1/weir.1

FUZZ_SECONDS ?= 60
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
