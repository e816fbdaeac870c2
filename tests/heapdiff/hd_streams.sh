#!/usr/bin/env bash
# hd_streams.sh MKSNAP HEAPDIFF HEAPSNAP SRCDIR
# Inputs that are not plain snapshot files, to heapdiff and heapsnap dump:
# - endless devices and huge sparse files, with and without a real
#   preamble, are refused at once with one line, in little memory (under
#   a 1 GiB address-space limit, or ASan's RSS limit) and time (timeout);
# - a pipe and process substitution give heapdiff the same report as the
#   files (and dump the same listing);
# - a FIFO no process writes to is refused as empty, not waited on; one
#   with a writer is read.
set -euo pipefail
MKSNAP=$1 heapdiff=$2 heapsnap=$3 src=$(cd "$4" && pwd)
. "$src/hd_specs.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
hd_make "$dir"
cd "$dir"
fails=0

fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

# small CMD...: CMD with its memory bounded and a deadline
if grep -qa __asan_init "$heapdiff"; then # ASan maps terabytes of shadow
  small() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=1024 timeout 20 "$@"; }
else
  small() { (ulimit -v 1048576 && exec timeout 20 "$@"); }
fi

# refused NAME LINE CMD...: exit 2, nothing on stdout, stderr exactly LINE
refused() {
  local name=$1 line=$2 rc=0
  shift 2
  small "$@" >out 2>err || rc=$?
  if [ "$rc" = 2 ] && [ ! -s out ] && [ "$(cat err)" = "$line" ]; then
    echo "ok: $name -> $line"
  else
    fail "$name -> exit $rc, stderr: $(head -c 300 err)"
  fi
}

# The same file for both tools: "dump FILE" and "heapdiff FILE".
both() {
  local file=$1 why=$2
  refused "dump $file" "heapsnap: $file: $why" "$heapsnap" dump "$file"
  refused "heapdiff $file" "heapdiff: $file: $why" "$heapdiff" "$file"
}

# 1. Nothing past what the preamble and the frame justify is read.
truncate -s 3G zero.snap # no preamble: zeros
head -c 16 server.2.snap >preamble.snap
truncate -s 20G preamble.snap # a real preamble, then zeros
# zstd's frame header: 6 bytes when its descriptor (byte 20) sets no
# content size, no single segment and no dictionary
fhd=$(($(od -An -tu1 -j20 -N1 server.2.snap) & 0xe3))
[ "$fhd" = 0 ] || fail "server.2.snap's frame header is not 6 bytes"
head -c 22 server.2.snap >frame.snap
truncate -s 20G frame.snap # then zeros: empty zstd blocks for ever
cp server.2.snap tail.snap
truncate -s 20G tail.snap # a whole snapshot, then zeros
both /dev/zero "not a heapsnap snapshot (bad magic)"
both /dev/urandom "not a heapsnap snapshot (bad magic)"
both zero.snap "not a heapsnap snapshot (bad magic)"
both preamble.snap "snapshot is corrupted"
both frame.snap "snapshot declares more data than a reader accepts"
both tail.snap "snapshot is corrupted"
refused "heapdiff server.1.snap tail.snap" \
  "heapdiff: tail.snap: snapshot is corrupted" \
  "$heapdiff" server.1.snap tail.snap
rm -f zero.snap preamble.snap frame.snap tail.snap

# 2. Pipes: the same report as from files of the same base names.
same() { # NAME WANT GOT: the two outputs are equal
  if cmp -s "$2" "$3"; then
    echo "ok: $1"
  else
    fail "$1:"
    diff "$2" "$3" | head -20 || true
  fi
}
report() { # OUT CMD...: CMD's stdout and stderr to OUT, its exit to OUT.rc
  local out=$1 rc=0
  shift
  small "$@" >"$out" 2>"$out.err" || rc=$?
  echo "$rc" >"$out.rc"
  cat "$out.err" "$out.rc" >>"$out"
}
cp server.2.snap stdin
report want "$heapdiff" server.1.snap stdin
cat server.2.snap | report got "$heapdiff" server.1.snap /dev/stdin
same "cat server.2.snap | heapdiff server.1.snap /dev/stdin" want got
# process substitution: /dev/fd/N paths, given out of time order too
subst() { # the files copied to the pipes' base names, then both reports
  mkdir -p fd
  cp server.3.snap "fd/${1##*/}"
  cp server.1.snap "fd/${2##*/}"
  report want "$heapdiff" "fd/${1##*/}" "fd/${2##*/}"
  report got "$heapdiff" "$1" "$2"
}
subst <(cat server.3.snap) <(cat server.1.snap)
same "heapdiff <(cat server.3.snap) <(cat server.1.snap)" want got
grep -q "not given in time order" got || fail "no note on the order"
report want "$heapsnap" dump stdin
cat server.2.snap | report got "$heapsnap" dump /dev/stdin
sed -i 's#^snapshot /dev/stdin$#snapshot stdin#' got
same "cat server.2.snap | heapsnap dump /dev/stdin" want got

# 3. FIFOs. Without a writer: refused as empty, at once.
mkfifo p.snap
both p.snap "file is empty"
refused "heapdiff server.1.snap p.snap" "heapdiff: p.snap: file is empty" \
  "$heapdiff" server.1.snap p.snap
# With a writer: this shell holds it open (read-write, so that opening
# it does not wait), writes a snapshot once the tool has it open, and
# closes it, which is the tool's end of file.
opened() { # until a tool (not a shell: the background job's own fork
  # holds fd 3 for a moment) has p.snap open
  local fd pid
  for ((i = 0; i < 400; i++)); do
    for fd in $(find /proc/[0-9]*/fd -maxdepth 1 -lname "$dir/p.snap" \
      2>/dev/null); do # processes come and go
      pid=${fd#/proc/} pid=${pid%%/*}
      case $(cat "/proc/$pid/comm" 2>/dev/null) in
      heapdiff | heapsnap) return 0 ;;
      esac
    done
    sleep 0.05
  done
}
fed() { # SNAP OUT CMD...: CMD reading p.snap, SNAP written into it
  local snap=$1 out=$2 pid
  shift 2
  exec 3<>p.snap
  report "$out" "$@" 3<&- &
  pid=$!
  opened 3<&-
  cat "$snap" >&3
  exec 3>&-
  wait "$pid" || true
}
cp server.2.snap p2.snap
report want "$heapdiff" server.1.snap p2.snap
fed server.2.snap got "$heapdiff" server.1.snap p.snap
sed -i 's/^  p\.snap  /  p2.snap /' got
same "heapdiff server.1.snap FIFO" want got
report want "$heapsnap" dump p2.snap
fed server.2.snap got "$heapsnap" dump p.snap
sed -i 's/^snapshot p\.snap$/snapshot p2.snap/' got
same "heapsnap dump FIFO" want got

# A regular file is closed after its header and opened again at its
# turn: replaced in between (here while heapdiff waits on the FIFO after
# it), it is refused.
cp server.1.snap s1.snap
exec 3<>p.snap
small "$heapdiff" s1.snap p.snap >out 2>err 3<&- &
pid=$!
opened 3<&-
cp server.1.snap s1.new && mv s1.new s1.snap
cat server.2.snap >&3
exec 3>&-
rc=0
wait "$pid" || rc=$?
line="heapdiff: s1.snap: changed since heapdiff first read it (replaced or written to meanwhile); run it again"
if [ "$rc" = 2 ] && [ "$(cat err)" = "$line" ]; then
  echo "ok: a file replaced between its header and its read -> $line"
else
  fail "a file replaced between its header and its read: exit $rc, $(head -c 300 err)"
fi

# 4. Many snapshot files under a low limit on open files (hard and soft
# 24): heapdiff holds no descriptor per file between its look at the
# header and its read, so 40 snapshots compare as 2 do.
for k in $(seq 1 40); do
  { hd_common 4000000
    printf 'number %d\nepoch %d\ntime %d\n' "$k" $((k - 1)) $((1000000000 + 10 * k))
    printf 'block 0x%x 100 1 %d\n' $((0x1000000 + k * 0x100)) $((k - 1))
  } >"many.$k.spec"
  "$MKSNAP" "many.$k.spec" "many.$k.snap"
done
rc=0
(ulimit -n 24 && exec "$heapdiff" many.*.snap) >out 2>err || rc=$?
if [ "$rc" = 0 ] && grep -q '^40 snapshots of ' out; then
  echo "ok: 40 snapshots compared with 24 open files allowed"
else
  fail "40 snapshots with 24 open files allowed: exit $rc, $(head -c 300 err)"
fi

if [ "$fails" != 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "all stream inputs handled"
