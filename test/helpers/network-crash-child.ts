/**
 * Driven by test/integration/network/crash.test.ts: opens the database,
 * creates a sandbox and attaches it with a published port, through a plugin
 * directory whose chosen plugin stops on ADD (the test kills this process
 * with SIGKILL there). Arguments: root runRoot pluginDir network-JSON containerId.
 */
import { join } from 'node:path';
import { openEngineDatabase } from '../../src/engine/store/db.ts';
import { Sandboxes } from '../../src/network/sandboxes.ts';
import type { NetworkRecord } from '../../src/network/types.ts';

const [root, runRoot, pluginDir, networkJson, containerId] = process.argv.slice(2) as [string, string, string, string, string];
const network = JSON.parse(networkJson) as NetworkRecord;
const db = openEngineDatabase(join(root, 'berth.db'));
const sb = new Sandboxes(db, { root, runRoot }, { pluginDir });
const box = await sb.create(containerId);
await sb.attach(box.id, {
  network,
  containerId,
  containerName: 'crashing',
  macAddress: '02:42:0a:d5:00:99',
  aliases: [],
  ports: [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }],
});
process.stdout.write('attached\n');
