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
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm -lpthread)

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
bindir  ?= $(PREFIX)/bin
libdir  ?= $(PREFIX)/lib
includedir ?= $(PREFIX)/include

FORMAT_SRC := $(wildcard format/*.c)
ENGINE_SRC := $(wildcard engine/*.c)
LIB_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(FORMAT_SRC) $(ENGINE_SRC))
TOOL_LIB_SRC := $(filter-out tools/lactl.c tools/labench.c tools/lagen.c,$(wildcard tools/*.c))
TOOL_LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TOOL_LIB_SRC))
TEST_SRC   := $(wildcard tests/test_*.c)
TEST_BIN   := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

STATIC := $(BUILD)/libla.a
SHARED := $(BUILD)/libla.so.$(VERSION)
LACTL  := $(BUILD)/lactl
LAGEN  := $(BUILD)/lagen
LABENCH := $(BUILD)/labench

.PHONY: all lib test check test-build asan clean install uninstall demo bench help
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
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LAGEN): $(BUILD)/tools/lagen.o $(TOOL_LIB_OBJ) $(STATIC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LABENCH): $(BUILD)/tools/labench.o $(TOOL_LIB_OBJ) $(STATIC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lsqlite3 $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(TOOL_LIB_OBJ) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(LA_CFLAGS) -Itools $(CFLAGS) -o $@ $< $(TOOL_LIB_OBJ) $(STATIC) $(CHECK_LIBS) $(LDLIBS)

test-build: all $(TEST_BIN)

# check: the suite once, as built. test: with -Werror, then again under ASan+UBSan.
check: test-build
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; LA_LACTL=$(LACTL) $$t; done

test:
	./tools/install-deps.sh
	$(MAKE) check CFLAGS="$(OPT) -Werror"
	$(MAKE) asan

asan:
	$(MAKE) check BUILD=build-asan CFLAGS="-O1 -g -Werror -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined"

# demo: the README's first command; installs what is missing, builds, runs the main job.
demo:
	./tools/install-deps.sh
	$(MAKE) all
	./tools/demo.sh

# bench: figures for the closing notes; BENCH_EVENTS / BENCH_DAYS / BENCH_RUNS scale it.
BENCH_EVENTS ?= 2000000
BENCH_DAYS ?= 7
BENCH_RUNS ?= 3
bench: $(LABENCH)
	$(LABENCH) --events $(BENCH_EVENTS) --days $(BENCH_DAYS) --runs $(BENCH_RUNS) --json $(BUILD)/bench.json

install: all
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(includedir)
	install -m 644 include/la.h $(DESTDIR)$(includedir)/la.h
	install -m 644 $(STATIC) $(DESTDIR)$(libdir)/libla.a
	install -m 755 $(SHARED) $(DESTDIR)$(libdir)/libla.so.$(VERSION)
	ln -sf libla.so.$(VERSION) $(DESTDIR)$(libdir)/libla.so.$(VERSION_MAJOR)
	ln -sf libla.so.$(VERSION_MAJOR) $(DESTDIR)$(libdir)/libla.so
	install -m 755 $(LACTL) $(DESTDIR)$(bindir)/lactl

uninstall:
	rm -f $(DESTDIR)$(includedir)/la.h $(DESTDIR)$(libdir)/libla.a $(DESTDIR)$(libdir)/libla.so* \
	      $(DESTDIR)$(bindir)/lactl

clean:
	rm -rf build build-asan

help:
	@echo "all (default) lib lactl lagen | check: tests once | test: -Werror + ASan/UBSan"
	@echo "demo | bench (BENCH_EVENTS, BENCH_DAYS, BENCH_RUNS) | install uninstall (PREFIX, DESTDIR) | clean"
