# hd_specs.sh - the snapshots heapdiff's tests read, as hd_mksnap specs.
# Sourced by the test scripts: `hd_make DIR` writes DIR/*.snap.
#
# The "server" scenario: three snapshots 10 s apart of one process whose
# modules do not exist on this machine (so frames show as module+offset):
#   site 0x1100 grows by 10 blocks of 100 B per interval (behind a libc
#        frame, which is the allocator's and must be stripped);
#   site 0x1200 is a ring of 8 blocks whose sizes go 50 -> 60 -> 55
#        (bounded, +40 B in all);
#   site 0x1300 stays the same (5 x 10 B): not growing;
#   site 0x1400 shrinks 4 -> 2 -> 0 blocks of 1000 B (gone);
#   site 0x1500 appears in the second snapshot: 3 then 6 blocks of 300 B;
#   stack 6 is all libc: kept whole, not stripped to nothing.
# Expected: 3 growing sites, +3840 B in all.
# The third snapshot has a reachability scan (roots: the server's data, the
# main thread's stack, a JIT mapping): site 0x1100's first 10 blocks are
# held by a global, the next 10 through the first of them, the last 10 by
# nothing (lost: 1000 B); the ring by the main thread's stack; site
# 0x1500 by the mapping, then as a list through itself (5 in a row,
# pointers 16 bytes into each block).

hd_common() { # the header and the tables every "server" snapshot shares
  cat <<SPEC
exe /nonexistent/heapdiff-test/server
pid 100
rss $1
module /nonexistent/heapdiff-test/server 0x400000 0x500000 0x400000 main aabbccddeeff00112233445566778899aabbccdd
module /nonexistent/lib/libc.so.6 0x7f0000000000 0x7f0000200000 0x7f0000000000 0102030405060708090a0b0c0d0e0f1011121314
stack 0x7f0000001000 0x401100 0x402000
stack 0x401200 0x402000
stack 0x401300 0x402000
stack 0x401400 0x402000
stack 0x401500 0x402000
stack 0x7f0000001000 0x7f0000002000
SPEC
}

hd_make() {
  local d=$1
  { hd_common 4000000; cat <<SPEC
number 1
epoch 0
time 1000000000
blocks 10 0x1000000 0x100 100 1 0
blocks 8 0x2000000 0x100 50 2 0
blocks 5 0x3000000 0x100 10 3 0
blocks 4 0x4000000 0x1000 1000 4 0
block 0x6000000 64 6 0
SPEC
  } >"$d/server.1.spec"
  { hd_common 4200000; cat <<SPEC
number 2
epoch 1
time 1000000010
blocks 10 0x1000000 0x100 100 1 0
blocks 10 0x1100000 0x100 100 1 1
blocks 8 0x2100000 0x100 60 2 1
blocks 5 0x3000000 0x100 10 3 0
blocks 2 0x4000000 0x1000 1000 4 0
blocks 3 0x5000000 0x200 300 5 1
block 0x6000000 64 6 0
SPEC
  } >"$d/server.2.spec"
  { hd_common 4400000; cat <<SPEC
number 3
epoch 2
time 1000000020
blocks 10 0x1000000 0x100 100 1 0
blocks 10 0x1100000 0x100 100 1 1
blocks 10 0x1200000 0x100 100 1 2
blocks 4 0x2200000 0x100 55 2 2
blocks 4 0x2300000 0x100 55 2 1
blocks 5 0x3000000 0x100 10 3 0
blocks 3 0x5000000 0x200 300 5 1
blocks 3 0x5100000 0x200 300 5 2
block 0x6000000 64 6 0
root global 0 0x404000 0x405000
root thread 100 0x7ffd00000000 0x7ffd00100000 main
root mapping 0x7f1000000000 0x7f1000100000 [anon:jit]
reach 0 10 root 0 0x10 0
reach 10 10 block 0 8 0
reach 30 13 root 1 0x200 0
reach 43 1 root 2 0x40 0
reach 44 1 block 43 0 16
reach 45 1 block 44 0 16
reach 46 1 block 45 0 16
reach 47 1 block 46 0 16
reach 48 1 block 47 0 16
reach 49 1 root 0 0x18 0
SPEC
  } >"$d/server.3.spec"
  # Another program, for the refusal.
  sed 's|/heapdiff-test/server|/heapdiff-test/other|' "$d/server.3.spec" \
    >"$d/other.spec"
  # The same process, tracked by another attach (detached, attached again).
  { cat "$d/server.3.spec"; printf 'attached\nstart 999999995\n'; } \
    >"$d/reattached.spec"
  # RSS below the live bytes (a block not touched yet): RSS - heap < 0.
  { hd_common 4096; cat <<SPEC
number 1
epoch 0
time 1000000000
block 0x1000000 1048576 1 0
SPEC
  } >"$d/untouched.spec"
  # The same program restarted and loaded 0x100000 higher: same sites.
  sed -e 's/^pid 100/pid 200/' \
    -e 's/0x400000 0x500000 0x400000/0x500000 0x600000 0x500000/' \
    -e 's/0x40\([0-9a-f]\{4\}\)\b/0x50\1/g' \
    "$d/server.3.spec" >"$d/moved.spec"
  # malloc(0) leaks: site 0x1600 leaves 3 blocks of 0 bytes, unreachable,
  # between a first snapshot without them and a scanned second one.
  { hd_common 4000000; echo "stack 0x401600 0x402000"; cat <<SPEC
number 1
epoch 0
time 1000000000
blocks 5 0x3000000 0x100 10 3 0
SPEC
  } >"$d/zero.1.spec"
  { hd_common 4000000; echo "stack 0x401600 0x402000"; cat <<SPEC
number 2
epoch 1
time 1000000010
blocks 5 0x3000000 0x100 10 3 0
blocks 3 0x7000000 0x100 0 7 1
root thread 100 0x7ffd00000000 0x7ffd00100000 main
reach 0 5 root 0 0x100 0
SPEC
  } >"$d/zero.2.spec"
  # Precise mode: site 0x1600 grows by 3 blocks of 64 B, held by a
  # register root (one block through r15, one through xmm0: x86-64's
  # layout, 728 bytes) and a stack; then the same with a thread that could
  # not be stopped (the note, no registers flag).
  cp "$d/zero.1.spec" "$d/regs.1.spec"
  { hd_common 4000000; echo "stack 0x401600 0x402000"; cat <<SPEC
number 2
epoch 1
time 1000000010
blocks 5 0x3000000 0x100 10 3 0
blocks 3 0x7000000 0x100 64 7 1
registers
root register 101 728 worker
root thread 100 0x7ffd00000000 0x7ffd00100000 main
reach 0 5 root 1 0x100 0
reach 5 1 root 0 0 0
reach 6 1 root 0 376 8
reach 7 1 root 1 0x200 0
SPEC
  } >"$d/regs.2.spec"
  sed -e 's/^registers$/note registers of 1 of 3 threads not scanned: thread 102 (io): ptrace not permitted (a debugger attached, kernel.yama.ptrace_scope, seccomp)/' \
    "$d/regs.2.spec" >"$d/regs-note.2.spec"
  # The trend rule: four snapshots 10 s apart, one block per site each
  # time, of these sizes (steps.1, .2, .4 give the three-snapshot case):
  #   site 0x1100: 40696 40696 40696 82184 -> growing (a new high: a rehash)
  #   site 0x1200: 100 200 200 200         -> bounded (flat at its high)
  #   site 0x1300: 100 300 200 250         -> bounded (below its high)
  #   site 0x1400: 100 50 80 120           -> growing (above the first high)
  #   site 0x1500: 100 400 50 300          -> bounded
  local sizes=("40696 40696 40696 82184" "100 200 200 200" "100 300 200 250"
    "100 50 80 120" "100 400 50 300")
  for k in 1 2 3 4; do
    { hd_common 4000000
      printf 'number %d\nepoch %d\ntime %d\n' $k $((k - 1)) \
        $((1000000000 + 10 * (k - 1)))
      for i in 0 1 2 3 4; do
        local sz
        sz=$(echo "${sizes[$i]}" | cut -d' ' -f$k)
        printf 'block 0x%x %d %d %d\n' $((0x1000000 * (i + 1) + k * 0x100000)) \
          "$sz" $((i + 1)) $((k - 1))
      done
    } >"$d/steps.$k.spec"
  done
  # A repeat (an idle program's --at-exit snapshot after its last interval
  # one): steps.5 holds steps.4's very blocks, so trends end at steps.4
  # and stay as steps4.txt has them (without the rule every site reads
  # bounded). steps-new.5 has the same sizes, but site 0x1100's block was
  # freed and allocated again after steps.4 (epoch 4): no repeat, so that
  # site reads bounded.
  sed -e 's/^number 4$/number 5/; s/^epoch 3$/epoch 4/; s/^time 1000000030$/time 1000000040/' \
    "$d/steps.4.spec" >"$d/steps.5.spec"
  sed -e 's/^\(block 0x1400000 82184 1\) 3$/\1 4/' "$d/steps.5.spec" \
    >"$d/steps-new.5.spec"
  # An exit snapshot after the running ones (--interval with --at-exit):
  # static destructors freed site 0x1100's block, the rest stays. Trends
  # end at steps.4: 0x1400 is growing (bounded, 100 50 80 120 120, if the
  # exit snapshot counted), and 0x1100, shrunk to nothing, is not listed.
  # A block of the all-libc stack appears at exit alone (stdout's buffer,
  # made by a last printf): that site is new, not bounded (0 at the end of
  # the trends as at their start).
  { grep -v '^block 0x1400000 ' "$d/steps.5.spec"
    printf 'block 0x6000000 500 6 4\ntrigger exit\n'; } >"$d/steps-exit.5.spec"
  # The exit rule needs two running snapshots of the exit snapshot's
  # process: with --force, steps.1 of pid 100 and pid 200's one running
  # snapshot and its exit one, trends run to the last.
  sed -e 's/^pid 100$/pid 200/' "$d/steps.4.spec" >"$d/other.4.spec"
  sed -e 's/^pid 100$/pid 200/' "$d/steps-exit.5.spec" >"$d/other-exit.5.spec"
  # No repeat past the epochs' limit (524287: every block allocated after
  # it carries it) nor between sampled snapshots: each second snapshot has
  # the first's count and bytes, its blocks' epochs no newer, and other
  # blocks (site 0x1100 200 -> 400 B, site 0x1200 200 -> 0 B).
  local k sz1 sz2
  for k in 1 2 3; do
    sz1=200 sz2=200
    [ $k = 3 ] && sz1=400 sz2=0
    { hd_common 4000000
      printf 'number %d\nepoch %d\ntime %d\n' $k $((600000 + k - 1)) \
        $((1000000000 + 10 * (k - 1)))
      printf 'block 0x1000000 %d 1 524287\nblock 0x2000000 %d 2 524287\n' $sz1 $sz2
    } >"$d/epochmax.$k.spec"
    { hd_common 4000000
      printf 'sampled 4096\nnumber %d\nepoch %d\ntime %d\n' $k $((k - 1)) \
        $((1000000000 + 10 * (k - 1)))
      printf 'block 0x1000000 %d 1 0\nblock 0x2000000 %d 2 0\n' $sz1 $sz2
    } >"$d/sampled.$k.spec"
  done
  # JIT code: site 0x7f1000000017 lies in no module (the [anon:jit]
  # mapping); its frame's JSON offset is the raw address.
  { hd_common 4000000; echo "stack 0x7f1000000017 0x402000"; cat <<SPEC
number 1
epoch 0
time 1000000000
blocks 2 0x7000000 0x100 48 7 0
SPEC
  } >"$d/jit.spec"
  for s in "$d"/*.spec; do
    "$MKSNAP" "$s" "${s%.spec}.snap" || return 1
  done
}

# The "cxx" scenario: two snapshots of stacks through the real C++ library
# FIXTURE (hd_names_fixture.cpp, loaded at 0x7e0000000000), found with nm:
#   stack 1  std::vector<char>::vector <- app::cache_insert <- app::route
#   stack 2  std::__new_allocator<...>::allocate <- std::make_shared <-
#            app::make_cycle <- app::route
#   stack 3  std::vector<char>::vector <- app::detail::RequestRouter...::
#            dispatch_request_to_backend_pool <- app::route (a long name)
#   stack 4  myalloc_small <- myalloc_big <- serve_one <- app::route
#   stack 5  std::vector<char>::vector <- std::make_shared: runtime only
#   stack 6  std::vector<char>::vector <- app::cache_insert <- serve_one:
#            named as stack 1 (--group-by function merges them)
# Each site grows: stack N from N to 2N blocks of 100 B.
hd_cxx_make() {
  local d=$1 lib=$2 base=0x7e0000000000
  local id
  id=$(readelf -n "$lib" | awk '/Build ID/ {print $3}')
  sym() { # the return address just past the start of the function whose
    # name starts with $1 (and holds $2)
    local a
    a=$(nm -C "$lib" | awk -v n="$1" -v m="${2:-}" \
      '$2 ~ /^[TtWw]$/ { s = $0; sub(/^[^ ]+ [^ ]+ /, "", s);
         if (index(s, n) == 1 && index(s, m)) { print $1; exit } }')
    [ -n "$a" ] || { echo "hd_cxx_make: no $1 in $lib" >&2; return 1; }
    printf '0x%x' $((base + 0x$a + 1))
  }
  local vec alloc mk cache cycle route disp small big serve
  vec=$(sym 'std::vector<char, std::allocator<char> >::vector(') &&
    alloc=$(sym 'std::__new_allocator<std::_Sp_counted_ptr_inplace<app::Node' \
      '>::allocate(') &&
    mk=$(sym 'std::shared_ptr<std::enable_if<!std::is_array<app::Node>') &&
    cache=$(sym 'app::cache_insert(') && cycle=$(sym 'app::make_cycle(') &&
    route=$(sym 'app::route(') &&
    disp=$(sym 'app::detail::RequestRouterWithAVeryLongName::dispatch') &&
    small=$(sym 'myalloc_small') && big=$(sym 'myalloc_big') &&
    serve=$(sym 'serve_one') || return 1
  for n in 1 2; do
    cat >"$d/cxx.$n.spec" <<SPEC
exe /nonexistent/heapdiff-test/cxx
pid 300
number $n
epoch $((n - 1))
time $((1000000000 + 10 * n))
module $lib $base $((base + 0x100000)) $base $id
stack $vec $cache $route
stack $alloc $mk $cycle $route
stack $vec $disp $route
stack $small $big $serve $route
stack $vec $mk
stack $vec $cache $serve
blocks $n 0x1000000 0x100 100 1 0
blocks $((2 * n)) 0x2000000 0x100 100 2 0
blocks $((3 * n)) 0x3000000 0x100 100 3 0
blocks $((4 * n)) 0x4000000 0x100 100 4 0
blocks $((5 * n)) 0x5000000 0x100 100 5 0
blocks $((6 * n)) 0x6000000 0x100 100 6 0
SPEC
    "$MKSNAP" "$d/cxx.$n.spec" "$d/cxx.$n.snap" || return 1
  done
}
