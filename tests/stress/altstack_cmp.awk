# altstack_cmp.awk: `stress_stack altstack` under the shim against bare,
# from `paste -d: BARE SHIM` ("NAME: BYTES" lines, then "alternate stack:
# ok"). Each alternate stack's handlers may go at most b bytes deeper
# under the shim (-v b=BYTES): libunwind's check of a new stack, which the
# shim must skip there, takes some 4.6 KiB more. Prints one line: each
# stack's bytes more than bare, or what failed (then exits 1).
$1 != $3 { printf "line %d: %s bare, %s under the shim; ", NR, $1, $3; bad = 1; next }
NF == 4 && $2 ~ /^ *[0-9]+$/ && $4 - $2 > b {
  printf "%s: %d bytes, %d bare: over %d more; ", $1, $4, $2, b
  bad = 1
  next
}
NF == 4 && $2 ~ /^ *[0-9]+$/ { printf "%s: %d more; ", $1, $4 - $2 }
END { print ""; exit bad }
