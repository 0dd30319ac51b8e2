/** The berth-runtime command's entry point (bundled by scripts/build.ts). */
import { exitWith, main } from './main.ts';

if (process.env['BERTH_TRAIN_CODE_CACHE'] === '1') void import('./train.ts').then((m) => m.train(main)).then(exitWith);
else void main(process.argv.slice(2)).then(exitWith);
