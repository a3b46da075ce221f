// udpscope bench peer: Node.js dgram sender, the send path users would otherwise pick.
// BATCH sends per event-loop turn (setImmediate), like the engine worker's 64 per turn.
// usage: node send.js HOST PORT SIZE SECONDS [connected|unconnected] [BATCH]
// Loopback only; bounded by SECONDS (<= 30) and a hard count cap. Prints one JSON line.
'use strict';
const dgram = require('dgram');
const { performance } = require('perf_hooks');

const [host, portArg, sizeArg, secondsArg, mode = 'unconnected', batchArg = '64'] =
  process.argv.slice(2);
if (host !== '127.0.0.1' && host !== '::1') {
  process.stderr.write('send.js: loopback only (127.0.0.1 or ::1)\n');
  process.exit(2);
}
const port = parseInt(portArg, 10);
const size = parseInt(sizeArg, 10);
const durationMs = Math.min(parseFloat(secondsArg), 30) * 1000;
const batch = Math.max(1, Math.min(parseInt(batchArg, 10) || 64, 1024));
const CAP = 200e6;
const connected = mode === 'connected';
const buf = Buffer.alloc(size, 0x5a);
const sock = dgram.createSocket({ type: host === '::1' ? 'udp6' : 'udp4' });
let sent = 0;
let errors = 0;
sock.on('error', () => { errors++; });

function start() {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const finish = (err) => {
    if (err) errors++;
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(JSON.stringify({
      sent, errors, elapsed, pps: sent / elapsed, cpu_s: (cpu.user + cpu.system) / 1e6,
      runtime: `node ${process.version}`,
    }) + '\n');
    sock.close();
  };
  function turn() {
    if (connected) {
      for (let i = 0; i < batch; i++) sock.send(buf);
    } else {
      for (let i = 0; i < batch; i++) sock.send(buf, port, host);
    }
    sent += batch;
    if (performance.now() - t0 < durationMs && sent < CAP) {
      setImmediate(turn);
      return;
    }
    // sends complete in order: when this one is done, every earlier one was attempted
    sent++;
    if (connected) sock.send(buf, finish); else sock.send(buf, port, host, finish);
  }
  turn();
}

if (connected) sock.connect(port, host, start); else sock.bind(0, host, start);
