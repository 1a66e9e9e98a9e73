// groups_kafkajs.js - kafkajs consumer group (run by
// test/integration/groups_kafkajs_test.sh, which starts the node with
// offsets.topic.replication.factor=1): consumer.run from the beginning gets
// every key, value and header; commits; a second run of the same group
// after more produce gets only the new records (resumed from the commit);
// admin.fetchOffsets and describeGroups agree.  When SAMSA_RESTART_HANDSHAKE
// is set, between the two runs it prints "RESTART" and waits for a line on
// stdin: the test restarts the group's coordinator meanwhile, so the second
// run resumes from offsets the coordinator reloaded.
'use strict';
const assert = require('assert');
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

const kafka = new Kafka({ clientId: 'it-js-groups', brokers: [process.env.SAMSA_BOOTSTRAP],
                          logLevel: logLevel.ERROR, retry: { retries: 10 } });
const TOPIC = 'js-groups';
const GROUP = 'js-group-1';

async function consumeN(n, fromBeginning) {
  const consumer = kafka.consumer({ groupId: GROUP, sessionTimeout: 10000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning });
  const got = new Map();
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout: ${got.size}/${n} consumed`)), 40000);
    consumer.run({
      eachMessage: async ({ message }) => {
        got.set(message.key.toString(), [message.value.toString(), message.headers.i.toString()]);
        if (got.size >= n) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect(); // commits what it processed, leaves the group
  return got;
}

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: 2 }] });
  const producer = kafka.producer();
  await producer.connect();
  const send = async (from, to) => {
    const msgs = [];
    for (let i = from; i < to; i++) msgs.push({ key: `k${i}`, value: `v${i}`, headers: { i: String(i) } });
    await producer.send({ topic: TOPIC, acks: -1, compression: CompressionTypes.GZIP, messages: msgs });
  };
  await send(0, 100);
  const first = await consumeN(100, true);
  assert.strictEqual(first.size, 100);
  for (let i = 0; i < 100; i++) assert.deepStrictEqual(first.get(`k${i}`), [`v${i}`, String(i)]);

  const offs = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  const sum = offs[0].partitions.reduce((a, p) => a + Number(p.offset), 0);
  assert.strictEqual(sum, 100, `committed offsets ${JSON.stringify(offs)}`);

  if (process.env.SAMSA_RESTART_HANDSHAKE) {
    console.log('RESTART');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    process.stdin.pause();
  }
  await send(100, 130);
  const second = await consumeN(30, true); // fromBeginning only applies without a commit
  assert.strictEqual(second.size, 30);
  for (const k of second.keys()) assert(Number(k.slice(1)) >= 100, `re-read ${k} after commit`);

  const d = await admin.describeGroups([GROUP]);
  assert.strictEqual(d.groups[0].state, 'Empty');
  assert.strictEqual(d.groups[0].protocolType, 'consumer');
  await producer.disconnect();
  await admin.disconnect();
  console.log('kafkajs groups: all checks passed');
}

main().catch((e) => {
  console.log('FAIL: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
