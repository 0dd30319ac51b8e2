import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MediaType } from '../../../src/oci/image-spec.ts';
import { digestOf } from '../../../src/image/store/digest.ts';
import { berth, type CliResult } from '../../helpers/registry-cli.ts';
import { answer, hostileRegistry, stall, testImage, trickle } from '../../helpers/hostile-registry.ts';
import { tempDir } from '../../helpers/registry-tmp.ts';

/** `berth pull` with the timeouts a user sets in the environment. */
async function pullWith(t: TestContext, env: Record<string, string>, ref: string): Promise<CliResult> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await berth('--root', join(tempDir(t), 'root'), '--quiet', 'pull', ref);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('a stalled registry: the error names the registry, the blob and the idle timeout (not a bare "aborted")', async (t) => {
  const img = testImage();
  const reg = await hostileRegistry(t, {
    [img.manifestPath]: answer(img.manifest, MediaType.OciManifest),
    [img.configPath]: answer(img.config),
    // Part of the layer, then nothing, on every attempt.
    [img.layerPath]: (_req, res) => stall(res.writeHead(200, { 'content-length': String(img.layer.length) }), img.layer.subarray(0, 100)),
  });
  const r = await pullWith(t, { BERTH_REGISTRY_IDLE_TIMEOUT: '0.2' }, `${reg.host}/app:v1`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`^berth: blob 127\\.0\\.0\\.1:\\d+/app@${digestOf(img.layer)}: the registry sent nothing for 0\\.2 s \\(idle timeout, BERTH_REGISTRY_IDLE_TIMEOUT\\)$`, 'm'));
  assert.ok((reg.hits.get(img.layerPath) ?? 0) > 1, 'a stall is retried (resumed) before giving up');

  // Stalled before answering at all.
  const silent = await hostileRegistry(t, { [img.manifestPath]: () => undefined });
  const s = await pullWith(t, { BERTH_REGISTRY_IDLE_TIMEOUT: '0.2' }, `${silent.host}/app:v1`);
  assert.match(s.stderr, /^berth: manifest 127\.0\.0\.1:\d+\/app:v1: the registry sent nothing for 0\.2 s \(idle timeout, BERTH_REGISTRY_IDLE_TIMEOUT\)$/m);
});

test('a trickling registry: the whole transfer has a deadline, and the error names the registry, the blob and the deadline', async (t) => {
  const img = testImage({ layer: Buffer.alloc(1024 * 1024, 7) });
  const reg = await hostileRegistry(t, {
    [img.manifestPath]: answer(img.manifest, MediaType.OciManifest),
    [img.configPath]: answer(img.config),
    // A byte every 10 ms: never idle long enough for the idle timeout.
    [img.layerPath]: (_req, res) => trickle(res.writeHead(200, { 'content-length': String(img.layer.length) }), img.layer),
  });
  const r = await pullWith(t, { BERTH_REGISTRY_IDLE_TIMEOUT: '30', BERTH_REGISTRY_TIMEOUT: '1' }, `${reg.host}/app:v1`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`^berth: blob 127\\.0\\.0\\.1:\\d+/app@${digestOf(img.layer)}: not complete after 1 s \\(transfer deadline, BERTH_REGISTRY_TIMEOUT\\)$`, 'm'));
  assert.equal(reg.hits.get(img.layerPath), 1, 'a missed deadline is not retried');

  const bad = await pullWith(t, { BERTH_REGISTRY_TIMEOUT: 'soon' }, `${reg.host}/app:v1`);
  assert.match(bad.stderr, /BERTH_REGISTRY_TIMEOUT="soon": want a number of seconds greater than 0/);
});
