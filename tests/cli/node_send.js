// Test fixture: send datagrams with Node's dgram, one after the other.
// usage: node node_send.js udp4|udp6 HOST PORT < JSON array of hex strings
// prints {"port": <source port>, "sent": [byte counts]} when done.
'use strict';
const dgram = require('dgram');
const [type, host, port] = process.argv.slice(2);
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const payloads = JSON.parse(Buffer.concat(chunks).toString()).map((h) => Buffer.from(h, 'hex'));
  const sock = dgram.createSocket({ type, sendBufferSize: 1 << 20 });
  const sent = [];
  const next = (i) => {
    if (i === payloads.length) {
      process.stdout.write(JSON.stringify({ port: sock.address().port, sent }) + '\n');
      sock.close();
      return;
    }
    sock.send(payloads[i], Number(port), host, (err, n) => {
      if (err) { process.stderr.write(String(err) + '\n'); process.exit(1); }
      sent.push(n);
      next(i + 1);
    });
  };
  next(0);
});
