// consume_needs_groups.test.js - kafkajs consumer round trip (subscribe,
// consumer.run, headers).  kafkajs has no group-less consumer: consumer.run()
// needs FindCoordinator/JoinGroup/SyncGroup/Heartbeat/OffsetCommit.  So this
// test is EXPECTED TO FAIL UNTIL CONSUMER GROUPS EXIST: it asks the node's
// ApiVersions first and, if JoinGroup (key 11) is not advertised, prints
// "SKIP (needs consumer groups, ...)" and exits 77 (counted as skipped, never
// as passed).  SAMSA_GROUPS=1 forces it to run; SAMSA_GROUPS=0 forces the skip.
// Once the node advertises groups, a failure here is a real failure.
'use strict';
const assert = require('assert');
const net = require('net');
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

// advertisedApiKeys - the API keys in an ApiVersions v0 response, by hand.
function advertisedApiKeys(bootstrap) {
  const [host, port] = [bootstrap.slice(0, bootstrap.lastIndexOf(':')), Number(bootstrap.split(':').pop())];
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    const req = Buffer.alloc(4 + 2 + 2 + 4 + 2);
    req.writeInt32BE(10, 0); // size
    req.writeInt16BE(18, 4); // ApiVersions
    req.writeInt16BE(0, 6); // v0
    req.writeInt32BE(1, 8); // correlation id
    req.writeInt16BE(-1, 12); // null client id
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const n = buf.readInt32BE(10);
        const keys = new Set();
        for (let i = 0; i < n; i++) keys.add(buf.readInt16BE(14 + 6 * i));
        s.destroy();
        resolve(keys);
      }
    });
    s.on('error', reject);
    s.setTimeout(10000, () => { s.destroy(); reject(new Error('ApiVersions timeout')); });
    s.write(req);
  });
}

async function main() {
  const keys = await advertisedApiKeys(process.env.SAMSA_BOOTSTRAP);
  if (process.env.SAMSA_GROUPS === '0' || (process.env.SAMSA_GROUPS !== '1' && !keys.has(11))) {
    console.log('SKIP (needs consumer groups, issue: consumer groups)');
    process.exit(77);
  }
  const kafka = new Kafka({ clientId: 'it-kafkajs-consume', brokers: [process.env.SAMSA_BOOTSTRAP],
                            logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'js-consume', numPartitions: 2 }] });
  const producer = kafka.producer();
  await producer.connect();
  const N = 100;
  const msgs = [];
  for (let i = 0; i < N; i++) msgs.push({ key: `k${i}`, value: `v${i}`, headers: { i: String(i) } });
  await producer.send({ topic: 'js-consume', acks: -1, compression: CompressionTypes.GZIP, messages: msgs });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'it-js-group' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'js-consume', fromBeginning: true });
  const got = new Map();
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout: ${got.size}/${N} consumed`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        got.set(message.key.toString(), [message.value.toString(), message.headers.i.toString()]);
        if (got.size === N) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  for (let i = 0; i < N; i++) assert.deepStrictEqual(got.get(`k${i}`), [`v${i}`, String(i)]);
  await consumer.disconnect();
  await admin.disconnect();
  console.log('kafkajs consume: all checks passed');
}

main().catch((e) => {
  console.log('FAIL: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
