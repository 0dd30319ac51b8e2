/** The berth-runtime command's entry point (bundled by scripts/build.ts). */
import { exitWith, main } from './main.ts';

void main(process.argv.slice(2)).then(exitWith);
