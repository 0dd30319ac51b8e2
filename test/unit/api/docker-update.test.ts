/**
 * Docker's ContainerUpdate body (src/api/docker/update.ts), from what
 * `docker update --memory 64m --restart on-failure:3` (CLI 28) sent: its
 * zeros and nulls pass, the values land as create's would, and a resource
 * berth does not set is refused by name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerUpdate } from '../../../src/api/docker/update.ts';

const CLI_BODY = {
  CpuShares: 0, Memory: 67108864, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: null, BlkioDeviceReadBps: null, BlkioDeviceWriteBps: null,
  BlkioDeviceReadIOps: null, BlkioDeviceWriteIOps: null, CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '',
  Devices: null, DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null, OomKillDisable: null, PidsLimit: null,
  Ulimits: null, CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
};

test('the docker CLI\'s update body: memory (swap twice it, as at create) and the restart policy', () => {
  assert.deepEqual(dockerUpdate(CLI_BODY), { resources: { memory: { limit: 67108864, swap: 134217728 } }, restart: { name: 'on-failure', maxRetries: 3 } });
  assert.deepEqual(dockerUpdate({ ...CLI_BODY, Memory: 0, RestartPolicy: { Name: '', MaximumRetryCount: 0 }, NanoCpus: 1_500_000_000, PidsLimit: 50 }), {
    resources: { cpu: { quota: 150_000, period: 100_000 }, pids: { limit: 50 } },
  });
  assert.deepEqual(dockerUpdate({ CpuQuota: 20_000, CpuPeriod: 40_000 }).resources, { cpu: { quota: 20_000, period: 40_000 } });
});

test('what berth does not update is refused by name', () => {
  assert.throws(() => dockerUpdate({ ...CLI_BODY, CpuRealtimeRuntime: 5 }), /^BerthError: CpuRealtimeRuntime is not supported$/);
  assert.throws(() => dockerUpdate({ ...CLI_BODY, KernelMemory: 10 << 20 }), /KernelMemory is not supported/);
  assert.throws(() => dockerUpdate({ ...CLI_BODY, Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 2 }] }), /Ulimits is not supported/);
  assert.throws(() => dockerUpdate({ ...CLI_BODY, Memory: 1000 }), /Memory "1000": the minimum memory limit is 6m/);
  assert.throws(() => dockerUpdate('nope'), /must be a JSON object/);
});
