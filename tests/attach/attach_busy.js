// attach_busy.js N - a busy node for attach_real.sh: a timer churns
// Buffers of 1000 bytes all the while; each line on stdin makes grow()
// keep N more and print "step K LEN"; at the end of input "done".
'use strict';
const N = Number(process.argv[2]);
const kept = [];
const churn = setInterval(() => {
  let junk = [];
  for (let i = 0; i < 100; i++) junk.push(Buffer.allocUnsafeSlow(1000));
  junk = null;
}, 1);
function grow() {
  for (let i = 0; i < N; i++) kept.push(Buffer.allocUnsafeSlow(1000));
}
let k = 0;
let rest = '';
process.stdin.on('data', (d) => {
  rest += d;
  let nl;
  while ((nl = rest.indexOf('\n')) >= 0) {
    rest = rest.slice(nl + 1);
    grow();
    console.log('step', ++k, kept.length);
  }
});
process.stdin.on('end', () => {
  clearInterval(churn);
  console.log('done');
});
