/**
 * What every `berth` command gets: the global options (--root, --run-root,
 * --socket, --quiet, --tls-verify, --authfile, --creds), the output
 * streams, and the store, transports and berthd client opened on demand,
 * so `berth --help` touches nothing.
 */
import { resolve } from 'node:path';
import type { ApiClient } from '../../api/client.ts';
import { daemonPaths, type DaemonPaths } from '../../api/paths.ts';
import { invalidArgument } from '../../errors.ts';
import { commandsFor } from '../framework/command.ts';
import { referenceDefaultsFromEnv, type ReferenceDefaults } from '../../image/registry/reference.ts';
import { DEFAULT_ROOT } from '../../image/store/default-root.ts';
import type { ImageStore } from '../../image/store/store.ts';
import type { RegistryOptions } from '../../image/transport/docker.ts';
import type { TransportContext } from '../../image/transport/open.ts';

export interface Output {
  write(text: string): void;
  isTTY: boolean;
  columns: number;
  /** The byte stream behind it, for archives written to stdout. */
  stream?: NodeJS.WritableStream;
  /** Bytes as they are (a container's output), when the output is not this process's own stream. */
  bytes?: (b: Buffer) => void;
}

/** Writes bytes to `o`: through its own byte writer, else its stream. */
export function writeBytes(o: Output, b: Buffer): void {
  if (o.bytes !== undefined) o.bytes(b);
  else o.stream?.write(b);
}

export interface GlobalOptions {
  root: string;
  /** berthd's run root and socket (defaults: /run/berth, RUN-ROOT/berth.sock). */
  runRoot?: string | undefined;
  socket?: string | undefined;
  quiet: boolean;
  tlsVerify: boolean | undefined;
  authFile: string | undefined;
  creds: { username: string; password: string } | undefined;
}

export class CommandContext {
  readonly globals: GlobalOptions;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly defaults: ReferenceDefaults;
  /** The caller's environment and working directory: this process's, or those of berth's client when berthd runs the command. */
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  private opened: ImageStore | undefined;
  private client: ApiClient | undefined;

  constructor(globals: GlobalOptions, stdout: Output, stderr: Output, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()) {
    this.globals = globals;
    this.stdout = stdout;
    this.stderr = stderr;
    this.env = env;
    this.cwd = cwd;
    this.defaults = referenceDefaultsFromEnv(env);
  }

  /** A path given on the command line, made absolute against the caller's working directory. */
  path(p: string): string {
    return resolve(this.cwd, p);
  }

  async store(): Promise<ImageStore> {
    if (this.opened === undefined) {
      // Loaded here, not at start-up: the container commands never open the store.
      const { ImageStore: Store } = await import('../../image/store/store.ts');
      this.opened ??= await Store.open({ root: this.globals.root, defaults: this.defaults });
    }
    return this.opened;
  }

  registryOptions(extra: Partial<RegistryOptions> = {}): RegistryOptions {
    const o: RegistryOptions = { ...extra };
    if (this.globals.tlsVerify !== undefined) o.insecure = !this.globals.tlsVerify;
    if (this.globals.authFile !== undefined) o.authFile = this.globals.authFile;
    if (this.globals.creds !== undefined) o.credentials = this.globals.creds;
    return o;
  }

  transports(extra: Partial<RegistryOptions> = {}): TransportContext {
    return { store: () => this.store(), registry: this.registryOptions(extra) };
  }

  daemonPaths(): DaemonPaths {
    return daemonPaths({ root: this.globals.root, runRoot: this.globals.runRoot, socket: this.globals.socket });
  }

  /** A client of berthd, which is started in the background when nothing answers (container commands). */
  async daemon(): Promise<ApiClient> {
    if (this.client === undefined) {
      const { OnDemandClient } = await import('../../api/daemon.ts');
      const paths = this.daemonPaths();
      this.client = new OnDemandClient({ ...paths, notice: (line) => this.stderr.write(line) });
    }
    return this.client;
  }

  /** Prints a line unless --quiet. */
  info(line: string): void {
    if (!this.globals.quiet) this.stderr.write(`${line}\n`);
  }

  out(text: string): void {
    this.stdout.write(text);
  }

  close(): void {
    this.opened?.close();
    this.opened = undefined;
  }
}

export function parseCreds(value: string): { username: string; password: string } {
  const i = value.indexOf(':');
  if (i <= 0) throw invalidArgument('invalid_creds', '--creds: want USERNAME:PASSWORD');
  return { username: value.slice(0, i), password: value.slice(i + 1) };
}


export const DEFAULT_DATA_ROOT = DEFAULT_ROOT;

export const defineCommand = commandsFor<CommandContext>();
