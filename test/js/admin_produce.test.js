// admin_produce.test.js - kafkajs 2.2.4 against one node (SAMSA_BOOTSTRAP,
// started by test/lib/with-node.sh).  Proves: admin.createTopics (with
// configEntries; a duplicate returns false), listTopics, fetchTopicMetadata
// (partitions, leader 1), producer.send with GZIP + keys + headers and
// acks=-1 (consecutive base offsets), fetchTopicOffsets (low/high),
// fetchTopicOffsetsByTimestamp (first batch at/after a timestamp; past the
// end the broker says -1, which kafkajs turns into the high watermark),
// describeConfigs, deleteTopics;
// then kcat reads the kafkajs-written gzip batches back byte for byte.
// Consumption with kafkajs needs consumer groups: see consume.test.js.
'use strict';
const assert = require('assert');
const { execFileSync } = require('child_process');
const { Kafka, CompressionTypes, logLevel, ConfigResourceTypes } = require('kafkajs');

const bootstrap = process.env.SAMSA_BOOTSTRAP;
if (!bootstrap) {
  console.log('FAIL: SAMSA_BOOTSTRAP not set (run via test/lib/with-node.sh)');
  process.exit(1);
}

async function main() {
  const kafka = new Kafka({ clientId: 'it-kafkajs', brokers: [bootstrap], logLevel: logLevel.ERROR,
                            retry: { retries: 5 } });
  const admin = kafka.admin();
  await admin.connect();

  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: 'js-a', numPartitions: 3, replicationFactor: 1,
        configEntries: [{ name: 'retention.ms', value: '123456789' }] },
      { topic: 'js-ts', numPartitions: 1, replicationFactor: 1 },
    ],
  });
  assert.strictEqual(created, true, 'createTopics should report created');
  const again = await admin.createTopics({ topics: [{ topic: 'js-a', numPartitions: 1 }] });
  assert.strictEqual(again, false, 'duplicate createTopics should return false');
  const names = await admin.listTopics();
  assert.ok(names.includes('js-a') && names.includes('js-ts'), `listTopics: ${names}`);
  console.log('ok createTopics / duplicate / listTopics');

  const md = await admin.fetchTopicMetadata({ topics: ['js-a'] });
  assert.strictEqual(md.topics.length, 1);
  const parts = md.topics[0].partitions.sort((a, b) => a.partitionId - b.partitionId);
  assert.deepStrictEqual(parts.map((p) => p.partitionId), [0, 1, 2]);
  for (const p of parts) {
    assert.strictEqual(p.leader, 1, `partition ${p.partitionId} leader ${p.leader}`);
    assert.deepStrictEqual(p.replicas, [1]);
    assert.deepStrictEqual(p.isr, [1]);
  }
  console.log('ok fetchTopicMetadata: 3 partitions led by node 1');

  const cfg = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-a', configNames: ['retention.ms'] }],
  });
  const entry = cfg.resources[0].configEntries.find((e) => e.configName === 'retention.ms');
  assert.ok(entry && entry.configValue === '123456789', `describeConfigs retention.ms: ${JSON.stringify(entry)}`);
  console.log('ok describeConfigs shows the createTopics config');

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const N = 200;
  const sent = [];
  for (let i = 0; i < N; i++) {
    sent.push({ key: `jk-${i % 7}`, value: `kafkajs gzip value ${i} ` + 'q'.repeat(i % 31),
                headers: { seq: String(i), lib: 'kafkajs' }, partition: 1 });
  }
  let expectOffset = 0;
  for (let b = 0; b < 4; b++) {
    const chunk = sent.slice(b * 50, (b + 1) * 50);
    const res = await producer.send({ topic: 'js-a', acks: -1, compression: CompressionTypes.GZIP, messages: chunk });
    assert.strictEqual(res.length, 1);
    assert.strictEqual(res[0].errorCode, 0);
    assert.strictEqual(res[0].partition, 1);
    assert.strictEqual(res[0].baseOffset, String(expectOffset), `batch ${b} baseOffset ${res[0].baseOffset}`);
    expectOffset += chunk.length;
  }
  console.log(`ok producer.send GZIP with keys+headers: ${N} records at offsets 0..${N - 1}`);

  const offs = (await admin.fetchTopicOffsets('js-a')).sort((a, b) => a.partition - b.partition);
  assert.deepStrictEqual(offs.map((o) => [o.partition, o.low, o.high]),
    [[0, '0', '0'], [1, '0', String(N)], [2, '0', '0']], JSON.stringify(offs));
  console.log('ok fetchTopicOffsets low/high');

  // one send per timestamp: batches at t0, t0+1s, ..., each with 10 records
  const t0 = Date.now() - 60000;
  for (let b = 0; b < 5; b++) {
    const msgs = [];
    for (let i = 0; i < 10; i++) msgs.push({ value: `ts ${b}.${i}`, timestamp: String(t0 + b * 1000) });
    await producer.send({ topic: 'js-ts', acks: -1, messages: msgs });
  }
  const at = async (ts) => (await admin.fetchTopicOffsetsByTimestamp('js-ts', ts))[0].offset;
  assert.strictEqual(await at(t0 - 5000), '0', 'before the first record');
  assert.strictEqual(await at(t0 + 2000), '20', 'exactly the third batch');
  assert.strictEqual(await at(t0 + 2500), '30', 'between batches 3 and 4');
  const past = await at(Date.now() + 3600000);
  assert.ok(past === '50' || past === '-1', `past the end: ${past}`);
  console.log(`ok fetchTopicOffsetsByTimestamp (past end -> ${past})`);
  await producer.disconnect();

  // read back with kcat: the kafkajs gzip batches are valid and exact
  const out = execFileSync('kcat', ['-b', bootstrap, '-C', '-t', 'js-a', '-p', '1', '-o', 'beginning', '-e', '-q',
                                    '-f', '%o|%k|%s|%h\n'], { encoding: 'utf8' });
  const lines = out.split('\n').filter((l) => l.length > 0);
  assert.strictEqual(lines.length, N, `kcat read ${lines.length} records`);
  lines.forEach((l, i) => {
    const m = sent[i];
    assert.strictEqual(l, `${i}|${m.key}|${m.value}|seq=${i},lib=kafkajs`);
  });
  console.log('ok kcat reads the kafkajs gzip batches back exactly');

  await admin.deleteTopics({ topics: ['js-ts'] });
  const after = await admin.listTopics();
  assert.ok(!after.includes('js-ts') && after.includes('js-a'), `after delete: ${after}`);
  console.log('ok deleteTopics');
  await admin.disconnect();
  console.log('kafkajs admin/produce: all checks passed');
}

main().catch((e) => {
  console.log('FAIL: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
