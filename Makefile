# la — build, test, install. Plain GNU make; `make help` lists the targets.

VERSION_MAJOR := $(shell sed -n 's/^\#define LA_VERSION_MAJOR \([0-9]*\)/\1/p' include/la.h)
VERSION       := $(shell sed -n 's/^\#define LA_VERSION_STRING "\(.*\)"/\1/p' include/la.h)

CC      ?= cc
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
           -Wvla -Wformat=2 -Wundef
CFLAGS  ?= $(OPT)
LA_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -Iinclude -Iformat -Iengine $(WARN)
LDLIBS  := -llz4 -lzstd -lxxhash -lpthread -lm
TOOL_LDLIBS := -ljansson
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm -lpthread)

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
bindir  ?= $(PREFIX)/bin
libdir  ?= $(PREFIX)/lib
includedir ?= $(PREFIX)/include
pkgconfigdir ?= $(libdir)/pkgconfig
mandir  ?= $(PREFIX)/share/man

FORMAT_SRC := $(wildcard format/*.c)
ENGINE_SRC := $(wildcard engine/*.c)
LIB_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(FORMAT_SRC) $(ENGINE_SRC))
TOOL_LIB_SRC := $(filter-out tools/lactl.c tools/labench.c tools/lagen.c,$(wildcard tools/*.c))
TOOL_LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TOOL_LIB_SRC))
TEST_SRC   := $(wildcard tests/test_*.c)
TEST_BIN   := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
FUZZ_SRC   := $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_CC    ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_SAN   := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Iinclude -Iformat -Iengine -Itools -Ifuzz $(WARN) $(FUZZ_SAN)
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(FORMAT_SRC) $(ENGINE_SRC) tools/tsv.c tools/timefmt.c \
                  tools/jsonl.c tools/textid.c fuzz/common.c)
FUZZ_BIN   := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_NAMES))
FUZZ_REPLAY_BIN := $(patsubst %,$(BUILD)/fuzz-replay/%,$(FUZZ_NAMES))
SECONDS    ?= 30
# fuzz_api runs whole databases (tens of inputs a second, the others thousands): more time
API_SECONDS ?= $(SECONDS)
CXX        ?= c++
EXAMPLE_BIN := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))

STATIC := $(BUILD)/libla.a
SHARED := $(BUILD)/libla.so.$(VERSION)
LACTL  := $(BUILD)/lactl
LAGEN  := $(BUILD)/lagen
LABENCH := $(BUILD)/labench

.PHONY: all lib test check test-build asan tsan test-long clean install uninstall demo bench help \
        fuzz fuzz-run fuzz-replay fuzz-seeds headertest
all: lib $(LACTL) $(LAGEN)
lib: $(STATIC) $(SHARED)

$(BUILD)/%.o: %.c $(wildcard include/*.h format/*.h engine/*.h tools/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(LA_CFLAGS) $(CFLAGS) -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libla.so.$(VERSION_MAJOR) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
	ln -sf libla.so.$(VERSION) $(BUILD)/libla.so.$(VERSION_MAJOR)
	ln -sf libla.so.$(VERSION_MAJOR) $(BUILD)/libla.so

$(LACTL): $(BUILD)/tools/lactl.o $(TOOL_LIB_OBJ) $(STATIC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(TOOL_LDLIBS) $(LDLIBS)

$(LAGEN): $(BUILD)/tools/lagen.o $(TOOL_LIB_OBJ) $(STATIC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(TOOL_LDLIBS) $(LDLIBS)

$(LABENCH): $(BUILD)/tools/labench.o $(TOOL_LIB_OBJ) $(STATIC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lsqlite3 $(TOOL_LDLIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/testutil.h tests/runcmd.h $(TOOL_LIB_OBJ) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(LA_CFLAGS) -Itools $(CFLAGS) $(TEST_LDFLAGS) -o $@ $< $(TOOL_LIB_OBJ) $(STATIC) $(CHECK_LIBS) \
	    $(TOOL_LDLIBS) $(LDLIBS)

# test_oom fails allocations of its own choosing: malloc, calloc and realloc go through it
$(BUILD)/tests/test_oom: TEST_LDFLAGS := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

test-build: all $(TEST_BIN) $(EXAMPLE_BIN)

# The examples are what users copy: strict C99, only the public header.
$(BUILD)/examples/%: examples/%.c include/la.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -Iinclude $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

# la.h alone, as C99 -pedantic and as C++11.
headertest:
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -pedantic -Wall -Wextra -Werror -Iinclude -c tests/headertest.c -o $(BUILD)/headertest-c.o
	$(CXX) -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -Iinclude -c tests/headertest.c \
	    -o $(BUILD)/headertest-cxx.o

# check: the suite once, as built, and the fuzz corpora replayed. test: with -Werror, then
# again under ASan+UBSan.
check: test-build $(FUZZ_REPLAY_BIN)
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; LA_LACTL=$(LACTL) $$t; done
	@set -e; for t in $(FUZZ_NAMES); do echo "== fuzz replay $$t"; $(BUILD)/fuzz-replay/$$t fuzz/corpus/$$t; done
	@echo "== headertest"; $(MAKE) --no-print-directory headertest
	@echo "== examples"; BUILD=$(BUILD) ./tests/examples.sh
	@echo "== install"; BUILD=$(BUILD) CC="$(CC)" CFLAGS="$(CFLAGS)" LDFLAGS="$(LDFLAGS)" MAKE="$(MAKE)" \
	    ./tests/install.sh

test:
	./tools/install-deps.sh
	$(MAKE) check CFLAGS="$(OPT) -Werror"
	$(MAKE) asan
	$(MAKE) tsan

# The long forms of the crash tests: 2000 SIGKILLs of an appending writer, 400 of a sealing
# one, power cut at every sync call (dropped and torn). Not part of `make test` (an hour or so).
test-long: test-build
	LA_LONG=1 CK_RUN_CASE=crash $(BUILD)/tests/test_engine
	LA_LONG=1 CK_RUN_CASE=seal $(BUILD)/tests/test_seal
	LA_LONG=1 $(BUILD)/tests/test_crashsim

# The concurrency tests (threads appending, sealing and scanning at once, the rollup counting
# thread) under ThreadSanitizer.
tsan:
	$(MAKE) BUILD=build-tsan CFLAGS="-O1 -g -Werror -fsanitize=thread" LDFLAGS="-fsanitize=thread" \
	    build-tsan/tests/test_engine build-tsan/tests/test_seal
	CK_RUN_CASE=threads TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/test_engine
	CK_RUN_CASE=threads TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/test_seal
	$(MAKE) BUILD=build-tsan CFLAGS="-O1 -g -Werror -fsanitize=thread" LDFLAGS="-fsanitize=thread" \
	    build-tsan/tests/test_resources
	CK_RUN_CASE=threads TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/test_resources
	$(MAKE) BUILD=build-tsan CFLAGS="-O1 -g -Werror -fsanitize=thread" LDFLAGS="-fsanitize=thread" \
	    build-tsan/tests/test_rollup
	CK_RUN_CASE=thread TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/test_rollup

asan:
	$(MAKE) check BUILD=build-asan CFLAGS="-O1 -g -Werror -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined"

# demo: the README's first command; installs what is missing, builds, runs the main job.
demo:
	./tools/install-deps.sh
	$(MAKE) all
	./tools/demo.sh

# bench: figures for the closing notes; BENCH_EVENTS / BENCH_DAYS / BENCH_RUNS scale it.
BENCH_EVENTS ?= 5000000
BENCH_DAYS ?= 35
BENCH_RUNS ?= 3
bench: $(LABENCH)
	$(LABENCH) --events $(BENCH_EVENTS) --days $(BENCH_DAYS) --runs $(BENCH_RUNS) --json $(BUILD)/bench.json

# Fuzzing (fuzz/): one target fuzz/fuzz_NAME.c per reader of bytes, seeds in fuzz/corpus/NAME/.
# fuzz: libFuzzer builds in build-fuzz/. fuzz-run: each target SECONDS seconds (api: API_SECONDS)
# on a scratch copy of its corpus. fuzz-replay (part of check): the corpora through the targets, built with $(CC).

$(FUZZ_BUILD)/%.o: %.c $(wildcard include/*.h format/*.h engine/*.h tools/*.h fuzz/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/fuzz/fuzz_%.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(TOOL_LDLIBS) $(LDLIBS)

fuzz: $(FUZZ_BIN)

# Crashes are kept as build-fuzz/crash-NAME-*; the run goes on through every target, then fails.
fuzz-run: fuzz
	@fail=0; for t in $(FUZZ_NAMES); do \
	    w=$(FUZZ_BUILD)/corpus-work/$$t; rm -rf $$w; mkdir -p $$w; cp fuzz/corpus/$$t/* $$w/; \
	    s=$(SECONDS); if [ $$t = api ]; then s=$(API_SECONDS); fi; \
	    if $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$$s -timeout=30 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- $$w > $(FUZZ_BUILD)/fuzz-$$t.log 2>&1; then \
	        echo "fuzz_$$t: ok: $$(grep -E '^#[0-9]+[[:space:]]+DONE' $(FUZZ_BUILD)/fuzz-$$t.log | tail -1)"; \
	    else \
	        echo "fuzz_$$t: FAILED (log: $(FUZZ_BUILD)/fuzz-$$t.log)"; tail -40 $(FUZZ_BUILD)/fuzz-$$t.log; fail=1; fi; \
	done; exit $$fail

$(BUILD)/fuzz-replay/%: fuzz/fuzz_%.c fuzz/replay.c fuzz/common.c fuzz/fuzz.h $(TOOL_LIB_OBJ) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(LA_CFLAGS) -Itools -Ifuzz $(CFLAGS) $(LDFLAGS) -o $@ $< fuzz/replay.c fuzz/common.c \
	    $(BUILD)/tools/tsv.o $(BUILD)/tools/timefmt.o $(BUILD)/tools/jsonl.o $(BUILD)/tools/textid.o \
	    $(STATIC) $(TOOL_LDLIBS) $(LDLIBS)

fuzz-replay: $(FUZZ_REPLAY_BIN)
	@set -e; for t in $(FUZZ_NAMES); do $(BUILD)/fuzz-replay/$$t fuzz/corpus/$$t; done

# Regenerate the seed corpora from the project's own encoders and tools.
fuzz-seeds: all
	BUILD=$(BUILD) CC=$(CC) ./fuzz/make_seeds.sh

install: all
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(includedir)
	install -m 644 include/la.h $(DESTDIR)$(includedir)/la.h
	install -m 644 $(STATIC) $(DESTDIR)$(libdir)/libla.a
	install -m 755 $(SHARED) $(DESTDIR)$(libdir)/libla.so.$(VERSION)
	ln -sf libla.so.$(VERSION) $(DESTDIR)$(libdir)/libla.so.$(VERSION_MAJOR)
	ln -sf libla.so.$(VERSION_MAJOR) $(DESTDIR)$(libdir)/libla.so
	install -m 755 $(LACTL) $(DESTDIR)$(bindir)/lactl
	install -d $(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(mandir)/man1
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(libdir)|' -e 's|@INCLUDEDIR@|$(includedir)|' \
	    -e 's|@VERSION@|$(VERSION)|' la.pc.in > $(DESTDIR)$(pkgconfigdir)/la.pc
	install -m 644 tools/lactl.1 $(DESTDIR)$(mandir)/man1/lactl.1

uninstall:
	rm -f $(DESTDIR)$(includedir)/la.h $(DESTDIR)$(libdir)/libla.a $(DESTDIR)$(libdir)/libla.so* \
	      $(DESTDIR)$(bindir)/lactl
	rm -f $(DESTDIR)$(pkgconfigdir)/la.pc $(DESTDIR)$(mandir)/man1/lactl.1

clean:
	rm -rf build build-asan build-fuzz

help:
	@echo "all (default) lib lactl lagen | check: tests once | test: -Werror + ASan/UBSan"
	@echo "demo | bench (BENCH_EVENTS, BENCH_DAYS, BENCH_RUNS) | install uninstall (PREFIX, DESTDIR) | clean"
	@echo "fuzz: libFuzzer targets | fuzz-run (SECONDS) | fuzz-replay (in check) | fuzz-seeds"
	@echo "headertest: la.h alone as C99 and C++11 (in check)"
.SECONDARY:
