/**
 * The executor stays small enough for one reviewer to read in an hour
 * (issue 14): its hand-written C (native/executor, generated files aside)
 * may not pass 1,500 lines; the monitor's (native/monitor), 702 (exec mode and docker's half-closed attach took it past 650, the executor mode that spares a runtime command per container past 660, the same for each exec, its held client on fd 6, an exec's exit written without fsync, to 696, and its log, attach socket and ctl made while the executor starts, to 702); the
 * init's (native/init), 250; the functions' watchdog's (native/watchdog), 1,655 (1,650, then a held readiness probe that trusts the listener's own connect to the upstream instead of making one more): a strict HTTP/1.1 server
 * (request line, headers, chunked bodies, keep-alive), four modes (a process per request streamed or
 * buffered, a reverse proxy, static files) and its configuration, about what Go's net/http spares
 * OpenFaaS's watchdogs, with no library under it but libc; the gateway's relay (native/relay), 1,250: an
 * HTTP/1.1 relay for warm function calls (request heads, chunked answers and their trailers, HTTP/1.0
 * keep-alive, kept-alive replica connections) and its channel to berthd. What TypeScript can decide belongs in
 * TypeScript, what the native programs share in native/common.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const EXECUTOR = join(import.meta.dirname, '../../../native/executor');
const MAX_LINES = 1500;

test(`the executor's hand-written C is at most ${MAX_LINES} lines`, () => {
  const files = readdirSync(EXECUTOR).filter((f) => /\.[ch]$/.test(f) && !/\.gen\.[ch]$/.test(f));
  assert.ok(files.includes('main.c'), `no executor sources found in ${EXECUTOR}`);
  const lines = Object.fromEntries(files.map((f) => [f, readFileSync(join(EXECUTOR, f), 'utf8').split('\n').length - 1]));
  const total = Object.values(lines).reduce((a, b) => a + b, 0);
  assert.ok(total <= MAX_LINES, `native/executor has ${total} lines of hand-written C (${JSON.stringify(lines)}), more than ${MAX_LINES}`);
});

// Whole programs, every .c and .h counted.
for (const [name, max] of [['monitor', 702], ['init', 250], ['watchdog', 1655], ['relay', 1250]] as const) {
  const dir = join(import.meta.dirname, '../../../native', name);
  test(`the ${name}'s C is at most ${max} lines`, () => {
    const files = readdirSync(dir).filter((f) => /\.[ch]$/.test(f));
    assert.ok(files.includes('main.c'), `no ${name} sources found in ${dir}`);
    const total = files.reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').split('\n').length - 1, 0);
    assert.ok(total <= max, `native/${name} has ${total} lines of C, more than ${max}`);
  });
}
