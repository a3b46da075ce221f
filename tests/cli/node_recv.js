// Test fixture: receive COUNT datagrams with Node's dgram and print each as a JSON line.
// usage: node node_recv.js udp4|udp6 ADDRESS COUNT
'use strict';
const dgram = require('dgram');
const [type, address, count] = process.argv.slice(2);
const want = Number(count);
const sock = dgram.createSocket({ type, recvBufferSize: 1 << 20 });
let got = 0;
sock.on('listening', () => {
  process.stdout.write(JSON.stringify({ port: sock.address().port }) + '\n');
});
sock.on('message', (msg, rinfo) => {
  process.stdout.write(JSON.stringify({
    hex: msg.toString('hex'), size: rinfo.size, address: rinfo.address,
    family: rinfo.family, port: rinfo.port,
  }) + '\n');
  if (++got >= want) sock.close();
});
sock.on('error', (err) => { process.stderr.write(String(err) + '\n'); process.exit(1); });
sock.bind(0, address);
setTimeout(() => { process.stderr.write('node_recv: timeout\n'); process.exit(3); }, 20000).unref();
