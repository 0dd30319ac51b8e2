/**
 * ARG scoping, as Docker has it. ARGs before the first FROM are global:
 * usable in FROM lines only, unless a stage declares `ARG NAME` again
 * (then it gets the global value). A stage's `ARG NAME[=default]` is in
 * scope from its line to the end of the stage; `--build-arg NAME=V` wins
 * over the default. The proxy variables may be given without any ARG
 * (they reach RUN but no history), and BuildKit's platform ARGs
 * (TARGETPLATFORM, BUILDARCH, ...) are predefined in the global scope.
 * Build args no ARG consumed are reported, as Docker warns of them.
 */
import type { Platform } from '../../oci/image-spec.ts';

export const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

export function platformArgs(p: Platform): Map<string, string> {
  const platform = p.variant === undefined ? `${p.os}/${p.architecture}` : `${p.os}/${p.architecture}/${p.variant}`;
  const out = new Map<string, string>();
  for (const prefix of ['TARGET', 'BUILD']) {
    out.set(`${prefix}PLATFORM`, platform);
    out.set(`${prefix}OS`, p.os);
    out.set(`${prefix}ARCH`, p.architecture);
    out.set(`${prefix}VARIANT`, p.variant ?? '');
  }
  return out;
}

export class BuildArgs {
  private readonly given: ReadonlyMap<string, string>;
  private readonly used = new Set<string>();
  /** Global ARG values (after --build-arg), plus the predefined platform ARGs. */
  readonly global = new Map<string, string | undefined>();

  constructor(given: ReadonlyMap<string, string>, platform: Platform) {
    this.given = given;
    for (const [k, v] of platformArgs(platform)) this.global.set(k, v);
  }

  /** A global `ARG name[=default]` (default already expanded with the globals before it). */
  declareGlobal(name: string, expandedDefault: string | undefined): void {
    this.global.set(name, this.valueFor(name, expandedDefault));
  }

  /** The value of `ARG name[=default]` declared in a stage. */
  declareInStage(name: string, expandedDefault: string | undefined): string | undefined {
    if (expandedDefault !== undefined) return this.valueFor(name, expandedDefault);
    if (this.given.has(name)) return this.valueFor(name, undefined);
    return this.global.get(name);
  }

  private valueFor(name: string, fallback: string | undefined): string | undefined {
    if (this.given.has(name)) {
      this.used.add(name);
      return this.given.get(name);
    }
    return fallback;
  }

  /** Proxy variables given as build args: RUN gets them without any ARG. */
  proxies(): [string, string][] {
    const out: [string, string][] = [];
    for (const name of PROXY_ARGS) {
      const v = this.given.get(name);
      if (v !== undefined) {
        this.used.add(name);
        out.push([name, v]);
      }
    }
    return out;
  }

  /** Build args that no ARG (and no proxy use) consumed, sorted. */
  unused(): string[] {
    return [...this.given.keys()].filter((k) => !this.used.has(k) && !PROXY_ARGS.includes(k)).sort();
  }
}
