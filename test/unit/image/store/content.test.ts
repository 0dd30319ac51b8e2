import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { FileContentStore } from '../../../../src/image/store/content.ts';
import { digestOf } from '../../../../src/image/store/digest.ts';
import { tempDir } from '../../../helpers/registry-tmp.ts';

async function newStore(t: TestContext): Promise<FileContentStore> {
  const s = new FileContentStore(tempDir(t));
  await s.init();
  return s;
}

test('a committed blob lands at blobs/sha256/<hex> and reads back', async (t) => {
  const s = await newStore(t);
  const data = Buffer.from('hello blob');
  const info = await s.writeBlob(data);
  assert.equal(info.digest, digestOf(data));
  assert.equal(readFileSync(join(s.root, 'blobs/sha256', info.digest.slice(7)), 'utf8'), 'hello blob');
  assert.deepEqual(await s.readBlobBytes(info.digest), data);
  const chunks: Buffer[] = [];
  for await (const c of await s.readBlob(info.digest, { start: 6 })) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'blob');
  assert.deepEqual(await s.info(info.digest), { digest: info.digest, size: data.length });
});

test('a writer whose content does not match the expected digest commits nothing', async (t) => {
  const s = await newStore(t);
  const expected = digestOf('the right bytes');
  const w = await s.writer('layer-x', { digest: expected, size: 15 });
  await w.write(Buffer.from('the wrong bytes'));
  await assert.rejects(w.commit(), (err) => isBerthError(err, 'blob_digest_mismatch'));
  assert.equal(await s.info(expected), undefined);
  assert.deepEqual(readdirSync(join(s.root, 'blobs/sha256')), []);
  assert.deepEqual(await s.listIngests(), []);
});

test('a size mismatch is refused before the digest is compared', async (t) => {
  const s = await newStore(t);
  const w = await s.writer('short', { digest: digestOf('abc'), size: 4 });
  await w.write(Buffer.from('abc'));
  await assert.rejects(w.commit(), (err) => isBerthError(err, 'blob_size_mismatch'));
});

test('an interrupted ingest resumes where it stopped', async (t) => {
  const s = await newStore(t);
  const data = Buffer.alloc(300_000, 7);
  data.write('start', 0);
  const expected = { digest: digestOf(data), size: data.length };
  const first = await s.writer('resume-me', expected);
  await first.write(data.subarray(0, 100_000));
  await first.close();
  assert.deepEqual(await s.listIngests(), [{ ref: 'resume-me', size: 100_000 }]);
  assert.equal(await s.info(expected.digest), undefined, 'nothing visible before commit');

  const second = await s.writer('resume-me', expected);
  assert.equal(second.offset, 100_000);
  await second.write(data.subarray(100_000));
  const info = await second.commit();
  assert.deepEqual(info, expected);
  assert.equal(statSync(s.blobPath(expected.digest)).size, data.length);
  assert.deepEqual(await s.listIngests(), []);
});

test('truncate restarts an ingest cleanly (a server that ignored Range)', async (t) => {
  const s = await newStore(t);
  const data = Buffer.from('complete content');
  const first = await s.writer('r', { digest: digestOf(data) });
  await first.write(Buffer.from('garbage'));
  await first.close();
  const second = await s.writer('r', { digest: digestOf(data) });
  assert.equal(second.offset, 7);
  await second.truncate();
  await second.write(data);
  assert.equal((await second.commit()).digest, digestOf(data));
});

test('an ingest longer than the expected size is discarded on resume', async (t) => {
  const s = await newStore(t);
  const first = await s.writer('long', { digest: digestOf('ab'), size: 2 });
  await first.write(Buffer.from('abcdef'));
  await first.close();
  const second = await s.writer('long', { digest: digestOf('ab'), size: 2 });
  assert.equal(second.offset, 0);
  await second.abort();
});

test('two writers for the same ref in one process are refused', async (t) => {
  const s = await newStore(t);
  const w = await s.writer('busy');
  await assert.rejects(s.writer('busy'), (err) => isBerthError(err, 'ingest_locked'));
  await w.abort();
  const again = await s.writer('busy');
  await again.abort();
});

test('a lock left by a dead process is taken over', async (t) => {
  const s = await newStore(t);
  const w = await s.writer('stale');
  await w.write(Buffer.from('xy'));
  await w.close();

  const dir = readdirSync(join(s.root, 'ingest'))[0] ?? '';
  writeFileSync(join(s.root, 'ingest', dir, 'lock'), '999999999');
  const again = await s.writer('stale');
  assert.equal(again.offset, 2);
  await again.abort();
});

test('invalid digests are refused before any path is built (path traversal)', async (t) => {
  const s = await newStore(t);
  await assert.rejects(s.readBlob('sha256:../../etc/passwd'), (err) => isBerthError(err, 'invalid_digest'));
  assert.throws(() => s.blobPath('sha256:' + 'A'.repeat(64)), (err) => isBerthError(err, 'invalid_digest'));
  assert.throws(() => s.blobPath('md5:' + 'a'.repeat(32)), (err) => isBerthError(err, 'unsupported_digest'));
  await assert.rejects(s.readBlob(digestOf('absent')), (err) => isBerthError(err, 'blob_not_found'));
});

test('list and delete', async (t) => {
  const s = await newStore(t);
  const a = await s.writeBlob(Buffer.from('a'));
  const b = await s.writeBlob(Buffer.from('bb'));
  const listed: string[] = [];
  for await (const i of s.list()) listed.push(i.digest);
  assert.deepEqual(listed.sort(), [a.digest, b.digest].sort());
  assert.equal(await s.delete(a.digest), true);
  assert.equal(await s.delete(a.digest), false);
  assert.equal(await s.info(a.digest), undefined);
});
