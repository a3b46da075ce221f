// udpscope bench peer: Node.js dgram receiver, the receive path users would otherwise pick.
// Counts 'message' events and keeps each payload (bounded), like the engine worker does.
// usage: node recv.js HOST RCVBUF IDLE_MS MAX_S   (HOST: 127.0.0.1 or ::1 only)
// Prints "READY <port> <rcvbuf>", then one JSON line IDLE_MS after the last datagram (or MAX_S).
'use strict';
const dgram = require('dgram');
const { performance } = require('perf_hooks');

const [host, rcvbufArg, idleArg, maxArg] = process.argv.slice(2);
if (host !== '127.0.0.1' && host !== '::1') {
  process.stderr.write('recv.js: loopback only (127.0.0.1 or ::1)\n');
  process.exit(2);
}
const rcvbuf = parseInt(rcvbufArg || '0', 10);
const idleMs = parseFloat(idleArg || '300');
const maxMs = Math.min(parseFloat(maxArg || '10'), 60) * 1000;
const TICK = 10;
const KEEP = 1024;

const sock = dgram.createSocket({ type: host === '::1' ? 'udp6' : 'udp4' });
const kept = new Array(KEEP);
let count = 0;
let bytes = 0;
let first = 0;
sock.on('message', (msg, rinfo) => {
  if (count === 0) first = performance.now();
  kept[count % KEEP] = msg;
  count++;
  bytes += msg.length;
});
sock.on('error', (err) => {
  process.stderr.write(`recv.js: ${err.message}\n`);
  process.exit(1);
});
sock.bind(0, host, () => {
  if (rcvbuf > 0) {
    try { sock.setRecvBufferSize(rcvbuf); } catch (e) { /* keep the default */ }
  }
  const got = sock.getRecvBufferSize();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let seen = 0;
  let changed = t0;
  process.stdout.write(`READY ${sock.address().port} ${got}\n`);
  const timer = setInterval(() => {
    const now = performance.now();
    if (count !== seen) { seen = count; changed = now; }
    if ((count > 0 && now - changed >= idleMs) || now - t0 >= maxMs) {
      clearInterval(timer);
      const cpu = process.cpuUsage(cpu0);
      // the last datagram arrived within (changed - TICK, changed]: take the midpoint
      const window = count > 0 ? (changed - TICK / 2 - first) / 1000 : 0;
      process.stdout.write(JSON.stringify({
        received: count, bytes, window, pps: window > 0 ? count / window : 0,
        cpu_s: (cpu.user + cpu.system) / 1e6, rcvbuf: got, drops: null,
        runtime: `node ${process.version}`,
      }) + '\n');
      sock.close();
    }
  }, TICK);
});
