/** Temporary directories for the image tests: the shared helper (removed last-registered first). */
export { tempDir } from './cleanup.ts';
