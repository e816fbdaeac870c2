#!/usr/bin/env python3
"""hd_lambda_check.py STACK_JSON FUNCTION_JSON - checks heapdiff --json on
hd_lambda's snapshots (see its banner), grouped by stack then by function:
every site's origin is one of the two lambdas, named as the demangler
names them, and grouping by function gives one site per lambda with its
own bytes. Prints one line per check; exits 1 if any fails."""
import json
import sys

from checklib import check, equal, status

LAMBDAS = {
    "net::on_read::{lambda()#1}::operator()":
        "net::on_read(int)::{lambda()#1}::operator()() const",
    "db::on_query::{lambda()#1}::operator()":
        "db::on_query(int)::{lambda()#1}::operator()() const",
}
CALLERS = {
    "net::on_read::{lambda()#1}::operator()": "net::on_read(int)",
    "db::on_query::{lambda()#1}::operator()": "db::on_query(int)",
}
# per interval, 100 std::string objects (32 bytes) and their buffers of
# 101..103 (net) or 501..503 (db) bytes: i % 3 is 0 34 times, 1 and 2 33
PER_INTERVAL = {
    "net::on_read::{lambda()#1}::operator()": 3200 + 34 * 101 + 33 * 102 + 33 * 103,
    "db::on_query::{lambda()#1}::operator()": 3200 + 34 * 501 + 33 * 502 + 33 * 503,
}


def origins(doc):
    by = {}
    for s in doc["sites"]:
        o = s["stack"][s["origin"]]
        short = o["short_function"]
        by.setdefault(short, []).append(s)
        check(f"origin {short} is a lambda", short in LAMBDAS, str(o))
        if short in LAMBDAS:
            equal(f"{short} function", o["function"], LAMBDAS[short])
            equal(f"{short} inlined", o["inlined"], True)
            equal(f"{short} caller", s["stack"][s["origin"] + 1]["function"],
                  CALLERS[short])
    return by


stack = json.load(open(sys.argv[1]))
equal("stack: group_by", stack["group_by"], "stack")
by_stack = origins(stack)
equal("stack: origins", sorted(by_stack), sorted(LAMBDAS))

func = json.load(open(sys.argv[2]))
equal("function: group_by", func["group_by"], "function")
by_func = origins(func)
equal("function: origins", sorted(by_func), sorted(LAMBDAS))
for short, sites in by_func.items():
    equal(f"{short} sites", len(sites), 1)
    per = PER_INTERVAL.get(short, 0)
    equal(f"{short} bytes", sites[0]["bytes"], [per, 2 * per, 3 * per])
    equal(f"{short} blocks", sites[0]["blocks"], [200, 400, 600])
    # the same bytes as its sites grouped by stack
    equal(f"{short} bytes = its stacks' sum", sites[0]["bytes"],
          [sum(s["bytes"][i] for s in by_stack.get(short, []))
           for i in range(3)])
sys.exit(status())
