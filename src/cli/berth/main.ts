/** Entry point of the `berth` command (bundled by scripts/build.ts); the logic is in cli.ts. */
import { madeStream } from '../direct-write.ts';
import { main } from './cli.ts';

const stdout = madeStream('stdout');
void main(process.argv.slice(2)).then((code) => {
  // Let stdout drain, then leave without waiting for pooled connections; a stream nobody made holds nothing.
  process.exitCode = code;
  const stream = stdout();
  if (stream === undefined || stream.writableLength === 0) process.exit(code);
  else stream.once('drain', () => process.exit(code));
});
