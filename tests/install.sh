#!/bin/sh
# install.sh — `make install` as a user would run it: into a scratch prefix, then an example
# built with `pkg-config --cflags --libs la` against the shared and against the static library
# and run; the soname and the exported symbols checked; then `make uninstall` must leave no
# file behind. Also a staged install (DESTDIR) must put every file under DESTDIR.
# Environment: BUILD (build directory), CC, CFLAGS, LDFLAGS (for sanitizer builds), MAKE.
set -eu
BUILD=${BUILD:-build}
CC=${CC:-cc}
MAKE=${MAKE:-make}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install.sh: $*" >&2; exit 1; }

prefix=$tmp/prefix
$MAKE -s install BUILD="$BUILD" PREFIX="$prefix" DESTDIR= >/dev/null
for f in bin/lactl include/la.h lib/libla.a lib/libla.so lib/pkgconfig/la.pc share/man/man1/lactl.1; do
    [ -e "$prefix/$f" ] || fail "make install did not install $f"
done

soname=$(readelf -d "$prefix/lib/libla.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
major=$(sed -n 's/^#define LA_VERSION_MAJOR \([0-9]*\)/\1/p' include/la.h)
[ "$soname" = "libla.so.$major" ] || fail "soname is '$soname', expected libla.so.$major"
[ -e "$prefix/lib/$soname" ] || fail "no $soname link"
# every exported symbol is a call declared in la.h
nm -D --defined-only "$prefix/lib/libla.so" | awk '$2 == "T" || $2 == "D" || $2 == "B" {print $3}' |
    while read -r sym; do
        grep -q "LA_API .*\b$sym(" include/la.h || fail "exported symbol $sym is not in la.h"
    done

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion la)" = "$(sed -n 's/^#define LA_VERSION_STRING "\(.*\)"/\1/p' include/la.h)" ] ||
    fail "pkg-config --modversion la disagrees with la.h"

# shared: the program needs libla.so.MAJOR at run time
# shellcheck disable=SC2046,SC2086
$CC ${CFLAGS:-} $(pkg-config --cflags la) examples/track.c -o "$tmp/track-shared" ${LDFLAGS:-} $(pkg-config --libs la)
readelf -d "$tmp/track-shared" | grep -q "NEEDED.*\[$soname\]" || fail "track-shared does not use $soname"
LD_LIBRARY_PATH="$prefix/lib" "$tmp/track-shared" "$tmp/db-shared" >/dev/null

# static: libla.a and its private dependencies, all from pkg-config --static (libc stays shared)
# shellcheck disable=SC2046,SC2086
$CC ${CFLAGS:-} $(pkg-config --cflags la) examples/track.c -o "$tmp/track-static" ${LDFLAGS:-} \
    -Wl,-Bstatic $(pkg-config --static --libs la) -Wl,-Bdynamic
if readelf -d "$tmp/track-static" | grep -q 'NEEDED.*libla\.so'; then fail "track-static uses libla.so"; fi
"$tmp/track-static" "$tmp/db-static" >/dev/null
"$prefix/bin/lactl" verify "$tmp/db-static" >/dev/null
[ "$("$prefix/bin/lactl" scan "$tmp/db-static" | wc -l)" -eq 8 ] || fail "lactl scan: not 7 events and a header"

$MAKE -s uninstall BUILD="$BUILD" PREFIX="$prefix" DESTDIR=
left=$(find "$prefix" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"

# staged: PREFIX is where it will live, DESTDIR where the files go now
$MAKE -s install BUILD="$BUILD" PREFIX=/opt/la DESTDIR="$tmp/stage" >/dev/null
[ -f "$tmp/stage/opt/la/lib/pkgconfig/la.pc" ] || fail "staged install: no la.pc under DESTDIR"
grep -q '^prefix=/opt/la$' "$tmp/stage/opt/la/lib/pkgconfig/la.pc" || fail "staged la.pc does not name PREFIX"
grep -q "$tmp" "$tmp/stage/opt/la/lib/pkgconfig/la.pc" && fail "staged la.pc names DESTDIR"
$MAKE -s uninstall BUILD="$BUILD" PREFIX=/opt/la DESTDIR="$tmp/stage"
left=$(find "$tmp/stage" ! -type d)
[ -z "$left" ] || fail "staged make uninstall left: $left"
echo "install.sh: ok (soname $soname, shared and static example built with pkg-config and run)"
