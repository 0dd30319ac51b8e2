/**
 * Where images, containers and volumes live unless --root says otherwise. A
 * module of its own: the command line names it in its help and paths
 * without loading the store (SQLite, hashing) at start-up.
 */
export const DEFAULT_ROOT = '/var/lib/berth';
