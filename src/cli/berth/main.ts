/** Entry point of the `berth` command (bundled by scripts/build.ts); the logic is in cli.ts. */
import { main } from './cli.ts';

void main(process.argv.slice(2)).then((code) => {
  // Let stdout drain, then leave without waiting for pooled connections.
  process.exitCode = code;
  if (process.stdout.writableLength === 0) process.exit(code);
  else process.stdout.once('drain', () => process.exit(code));
});
