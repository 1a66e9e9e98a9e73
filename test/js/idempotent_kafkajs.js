// idempotent_kafkajs.js - a kafkajs idempotent producer (run by
// test/integration/idempotence_kafkajs_test.py on a 3-node cluster).
// Creates js-idem (1 partition), prints "LEADER <node id>", then sends
// ROUNDS batches of 20 numbered records one after another (idempotent:
// true, one request in flight, generous retries).  After KILL_AT rounds it
// prints "KILL" and keeps sending: the test kill -9s and restarts the
// leader meanwhile, so sends fail and are retried; after STALL_AT rounds
// it prints "STALL": the test stops the leader (SIGSTOP) past the 1 s
// request timeout and resumes it, so a send the stopped node holds is
// retried and arrives twice.  At the end it prints
// "ACKED <json>": each acknowledged batch's [base offset, first value,
// count], for the test to check against the log.
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const ROUNDS = 120;
const KILL_AT = 30;
const STALL_AT = 70;
const TOPIC = 'js-idem';
const kafka = new Kafka({ clientId: 'it-js-idem', brokers: process.env.SAMSA_BOOTSTRAP.split(','),
                          logLevel: logLevel.NOTHING, requestTimeout: 1000,
                          retry: { retries: 60, initialRetryTime: 100, maxRetryTime: 1000 } });

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 1 }] });
  const md = await admin.fetchTopicMetadata({ topics: [TOPIC] });
  console.log(`LEADER ${md.topics[0].partitions[0].leader}`);
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const acked = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r === KILL_AT)
      console.log('KILL');
    if (r === STALL_AT)
      console.log('STALL');
    const messages = [];
    for (let j = 0; j < 20; j++)
      messages.push({ value: `${r * 20 + j}` });
    const res = await producer.send({ topic: TOPIC, acks: -1, messages });
    acked.push([Number(res[0].baseOffset), r * 20, 20]);
    await new Promise((ok) => setTimeout(ok, 20));
  }
  await producer.disconnect();
  console.log(`ACKED ${JSON.stringify(acked)}`);
}

main().catch((e) => {
  console.log(`FAIL: ${e.stack || e}`);
  process.exit(1);
});
