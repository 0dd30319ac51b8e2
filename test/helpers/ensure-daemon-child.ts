/** A command that needs berthd, as test/integration/api runs several at once: ensureDaemon, then one ping. */
import { ensureDaemon } from '../../src/api/daemon.ts';

const [root, runRoot, command] = process.argv.slice(2);
const client = await ensureDaemon({ root, runRoot, command: JSON.parse(command ?? '[]') as string[], notice: (line) => process.stdout.write(`NOTICE ${line}`) });
process.stdout.write(`PING ${await client.ping()}\n`);
