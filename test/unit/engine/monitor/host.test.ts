/**
 * The monitor host (src/engine/monitor/host.ts) starts a berth-monitor only
 * for the container's executor: a host plan (a device filter attached while
 * the cgroup is made, on cgroup v2) goes to the base host, so no second
 * monitor takes the container's run directory.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { monitorHost } from '../../../../src/engine/monitor/host.ts';
import type { ExecutorLink, LaunchRequest, RuntimeHost } from '../../../../src/runtime/host/host.ts';

test('a host plan is launched by the base host, not by a monitor', async () => {
  const launched: LaunchRequest[] = [];
  const link = {} as ExecutorLink;
  const base: RuntimeHost = {
    launch: (request) => {
      launched.push(request);
      return Promise.resolve(link);
    },
    lockFile: () => Promise.resolve('missing'),
    warmCgroupJoin: () => () => undefined,
  };
  // A monitor that cannot start: were it spawned, launch would not return the base's link.
  const host = monitorHost({ executor: '/nonexistent/berth-exec', id: 'c1', runDir: '/nonexistent/run', log: { path: '/nonexistent/log', maxSize: 1, maxFiles: 1, lineMax: 1 }, monitor: '/nonexistent/berth-monitor' }, base);
  const request: LaunchRequest = { plan: new Uint8Array([1, 2, 3]), stdio: 'inherit', preserveFds: 0, hostPlan: true };
  assert.equal(await host.launch(request), link);
  assert.deepEqual(launched, [request]);
});

test('extra fds for the container are refused by name', async () => {
  const host = monitorHost({ executor: '/x', id: 'c2', runDir: '/x', log: { path: '/x', maxSize: 1, maxFiles: 1, lineMax: 1 } }, {} as RuntimeHost);
  await assert.rejects(host.launch({ plan: new Uint8Array(), stdio: 'inherit', preserveFds: 2 }), (err: Error & { code?: string }) => err.code === 'monitor_preserve_fds' && err.message.includes('"c2"'));
});
