// real_node_cache.js N SIZE - the patient of real_node.sh: the classic
// unbounded cache. At each step N Buffers of SIZE bytes go into a global
// Map that never evicts; then it prints "step K ENTRIES" and waits for a
// line on stdin (the driver takes a snapshot meanwhile). A timer churns
// JSON every millisecond, so the snapshots land while node works. Its
// output is deterministic: the driver compares it with and without the
// shim.
'use strict';
const crypto = require('crypto');
const readline = require('readline');

const N = Number(process.argv[2]);
const SIZE = Number(process.argv[3]);
const STEPS = 3;
const cache = new Map();
let step = 0;
let churned = 0;

function grow() {
  step++;
  for (let i = 0; i < N; i++) {
    const key = `entry-${step}-${i}`;
    cache.set(key, Buffer.alloc(SIZE, key));
  }
  console.log('step', step, cache.size);
}

const churn = setInterval(() => {
  const doc = {n: churned++, items: Array.from({length: 64}, (_, i) => i)};
  JSON.parse(JSON.stringify(doc));
}, 1);

const input = readline.createInterface({input: process.stdin});
input.on('line', () => {
  if (step < STEPS) {
    grow();
    return;
  }
  clearInterval(churn);
  input.close();
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  for (const [key, buf] of cache) {
    hash.update(key);
    hash.update(buf);
    bytes += buf.length;
  }
  console.log('done', cache.size, bytes, hash.digest('hex'));
});
grow();
