/** The berth-runtime command's entry point (bundled by scripts/build.ts). */
import { join } from 'node:path';
import { buildDir } from '../../paths.ts';
import { exitWith, main } from './main.ts';
import { startResident, wantsResident } from './resident-start.ts';

interface Trainer {
  train(main: (argv: readonly string[]) => Promise<number>): Promise<number>;
}

if (process.env['BERTH_TRAIN_CODE_CACHE'] === '1') {
  // The build trains the code cache in this very process: scripts/train.ts drives this bundle's main.
  const { createRequire } = process.getBuiltinModule('node:module');
  const trainer = createRequire(import.meta.url)(join(buildDir(), '..', 'scripts', 'train.ts')) as Trainer;
  void trainer.train(main).then(exitWith);
} else if (process.env['BERTH_RESIDENT_SERVE'] === '1') {
  void import('./resident.ts').then((r) => r.serveResident());
} else {
  const args = process.argv.slice(2);
  void main(args).then((code) => exitWith(code, wantsResident(args) ? startResident : undefined));
}
