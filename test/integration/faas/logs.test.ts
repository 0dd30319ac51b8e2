/**
 * `/system/logs` in a real berthd (as root): newline-delimited JSON in
 * faas-provider's logs.Message shape, from every replica of a function,
 * current and past (a killed replica's lines stay), tail, since and
 * instance, follow streaming new lines (also from a replica started after
 * the follow began) until the client goes away, with no follow left
 * behind; 404 for an unknown function, 400 naming a bad parameter.
 */
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { importImage } from '../../../src/image/copy/import.ts';
import { startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';
import { BUSYBOX_ENV } from '../../helpers/engine.ts';
import { gatewayClient, type GatewayClient } from '../../helpers/faas.ts';
import { makeRootfs } from '../../helpers/runtime.ts';

/** A function that writes a line to its log (stderr) for each call, naming the query, and answers "ok". */
const TALK_IMAGE = 'faas-talk:latest';
const TALK = `#!/bin/sh
echo "said $Http_Query" >&2
echo ok
`;

let d: TestDaemon;
let gw: GatewayClient;

before(async () => {
  d = await startDaemon({
    gateway: true,
    prepare: async (images, scratch) => {
      const rootfs = makeRootfs(scratch);
      writeFileSync(join(rootfs, 'talk'), TALK);
      chmodSync(join(rootfs, 'talk'), 0o755);
      await importImage(images, rootfs, { names: [TALK_IMAGE], config: { Cmd: ['sh'], Env: [BUSYBOX_ENV] } });
    },
  });
  gw = gatewayClient(d.gateway!, d.root);
  const r = await gw.deploy({ service: 'talker', image: TALK_IMAGE, envProcess: '/talk' });
  assert.equal(r.status, 202, await r.text());
});

after(async () => {
  await d?.stop();
});

interface Message {
  name: string;
  namespace: string;
  instance: string;
  timestamp: string;
  text: string;
}

async function replicas(fn: string): Promise<{ Id: string; Names: string[] }[]> {
  const filters = JSON.stringify({ label: [`com.openfaas.function=${fn}`] });
  return (await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as { Id: string; Names: string[] }[];
}

async function readyReplica(fn: string, not: readonly string[] = []): Promise<{ id: string; name: string }> {
  return until(`a ready replica of ${fn}`, async () => {
    const s = (await gw.get(`/system/function/${fn}`)) as { availableReplicas: number };
    const list = await replicas(fn);
    const c = list[0];
    return s.availableReplicas === 1 && list.length === 1 && c !== undefined && !not.includes(c.Id) ? { id: c.Id, name: (c.Names[0] ?? '').slice(1) } : undefined;
  }, 60_000);
}

async function say(query: string): Promise<void> {
  const r = await gw.fetch(`/function/talker?${query}`, { auth: false });
  assert.equal(await r.text(), 'ok\n');
}

async function logs(query: string): Promise<Message[]> {
  const r = await gw.fetch(`/system/logs?${query}`);
  const text = await r.text();
  assert.equal(r.status, 200, text);
  assert.equal(r.headers.get('content-type'), 'application/x-ndjson');
  if (text === '') return [];
  assert.ok(text.endsWith('\n'), 'each message ends its line');
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as Message);
}

const said = (ms: readonly Message[], what: string): Message[] => ms.filter((m) => m.text.includes(`said ${what}`));

async function follows(): Promise<number> {
  const text = await gw.fetch('/metrics', { auth: false }).then((r) => r.text());
  const m = /^gateway_log_follows (\d+)$/m.exec(text);
  assert.ok(m !== null, 'gateway_log_follows is exported');
  return Number(m[1]);
}

test("a function's lines as logs.Message, one JSON object a line; tail, since and instance", async () => {
  const first = await readyReplica('talker');
  for (const q of ['q=one', 'q=two', 'q=three']) await say(q);
  const all = await until('the three lines in the logs', async () => {
    const ms = await logs('name=talker');
    // The watchdog's own line for each request comes after the function's.
    return said(ms, 'q=three').length === 1 && ms.filter((m) => / GET \/ 200 /.test(m.text)).length === 3 ? ms : undefined;
  });
  const one = said(all, 'q=one')[0]!;
  assert.deepEqual(Object.keys(one).sort(), ['instance', 'name', 'namespace', 'text', 'timestamp']);
  assert.equal(one.name, 'talker');
  assert.equal(one.namespace, 'openfaas-fn');
  assert.equal(one.instance, first.name);
  assert.match(one.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  assert.ok(Math.abs(Date.parse(one.timestamp) - Date.now()) < 10 * 60_000, one.timestamp);
  assert.doesNotMatch(one.text, /\n/);
  const order = all.map((m) => m.text).filter((t) => /said q=/.test(t));
  assert.deepEqual(order.map((t) => /said (q=\w+)/.exec(t)?.[1]), ['q=one', 'q=two', 'q=three'], 'in time order');

  const last = await logs('name=talker&tail=1');
  assert.equal(last.length, 1);
  assert.deepEqual(last[0], all.at(-1));
  assert.deepEqual(await logs('name=talker&tail=0'), all, 'tail <= 0: all');
  assert.deepEqual(await logs('name=talker&since=2999-01-01T00:00:00Z'), []);
  assert.deepEqual(await logs(`name=talker&since=${encodeURIComponent(one.timestamp)}`), all.filter((m) => Date.parse(m.timestamp) >= Date.parse(one.timestamp)));
  assert.deepEqual(await logs('name=talker&since=2000-01-01T01:00:00%2B01:00'), all, 'an offset');
  assert.deepEqual(await logs(`name=talker&namespace=openfaas-fn&instance=${first.name}`), all);
  assert.deepEqual(await logs('name=talker&instance=talker-000000'), []);
});

test('the lines of a past replica stay: a killed one is replaced, both show', async () => {
  const old = await readyReplica('talker');
  await d.client.request('POST', `/containers/${old.id}/kill`);
  const fresh = await readyReplica('talker', [old.id]);
  await say('q=after');
  const ms = await until('the new replica\'s line', async () => {
    const all = await logs('name=talker');
    return said(all, 'q=after').length === 1 ? all : undefined;
  });
  assert.equal(said(ms, 'q=after')[0]?.instance, fresh.name);
  assert.equal(said(ms, 'q=one')[0]?.instance, old.name, 'the removed replica\'s lines');
  assert.deepEqual(new Set(ms.map((m) => m.instance)), new Set([old.name, fresh.name]));
});

test('follow streams new lines, from a replica started after it began too, until the client goes away; no follow is left', async () => {
  assert.equal(await follows(), 0);
  const ac = new AbortController();
  const r = await gw.fetch('/system/logs?name=talker&follow=true&tail=5', { signal: ac.signal });
  assert.equal(r.status, 200);
  const reader = r.body!.getReader();
  let buf = '';
  const seen: Message[] = [];
  const next = async (what: string): Promise<Message> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = said(seen, what)[0];
      if (found !== undefined) return found;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        seen.push(JSON.parse(buf.slice(0, nl)) as Message);
        buf = buf.slice(nl + 1);
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no "${what}" in the follow: ${JSON.stringify(seen.map((m) => m.text))}`)), Math.max(0, deadline - Date.now()))));
      const chunk = await Promise.race([reader.read(), late]).finally(() => clearTimeout(timer));
      assert.equal(chunk.done, false, `the follow ended before "${what}"`);
      buf += Buffer.from(chunk.value).toString('utf8');
    }
  };
  await next('q=after');
  assert.equal(await follows(), 1);
  await say('q=live');
  const live = await next('q=live');
  const before = await readyReplica('talker');
  assert.equal(live.instance, before.name);

  // A new replica after the follow began: the old one is killed and replaced.
  await d.client.request('POST', `/containers/${before.id}/kill`);
  const fresh = await readyReplica('talker', [before.id]);
  await say('q=newcomer');
  assert.equal((await next('q=newcomer')).instance, fresh.name);
  assert.equal(said(seen, 'q=live').length, 1, 'no line twice');

  ac.abort();
  await until('the follow to end in berthd', async () => ((await follows()) === 0 ? true : undefined));

  // Many clients that go away: none is left following.
  const many = Array.from({ length: 8 }, () => new AbortController());
  const opened = await Promise.all(many.map((c) => gw.fetch('/system/logs?name=talker&follow=1', { signal: c.signal })));
  for (const o of opened) assert.equal(o.status, 200);
  await until('8 follows', async () => ((await follows()) === 8 ? true : undefined));
  for (const c of many) c.abort();
  await until('no follow left', async () => ((await follows()) === 0 ? true : undefined));
});

test('404 for an unknown function; 400 naming a bad parameter', async () => {
  const r = await gw.fetch('/system/logs?name=nosuch');
  assert.equal(r.status, 404);
  assert.match(await r.text(), /function "nosuch": not found/);
  const cases: [string, string][] = [
    ['name=talker&since=yesterday', 'since'],
    ['name=talker&since=2024-01-01', 'since'],
    ['name=talker&tail=ten', 'tail'],
    ['name=talker&follow=maybe', 'follow'],
    ['', 'name'],
    ['name=Bad_Name', 'name'],
    ['name=talker&namespace=Bad_NS', 'namespace'],
  ];
  for (const [q, param] of cases) {
    const res = await gw.fetch(`/system/logs?${q}`);
    const text = await res.text();
    assert.equal(res.status, 400, `${q}: ${text}`);
    assert.match(text, new RegExp(`\\b${param}\\b.*:`), `${q}: ${text}`);
  }
});

test("a deleted function's logs go with it: 404", async () => {
  const del = await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'talker' }) });
  assert.equal(del.status, 200, await del.text());
  assert.equal((await gw.fetch('/system/logs?name=talker')).status, 404);
});
