/**
 * Image references as the docker CLI parses and normalises them:
 * `[domain[:port]/]path[:tag][@digest]`. A name whose first component is
 * not a host (no ".", no ":", not "localhost") has no registry of its own:
 * it means "the default registry", which is configuration (never a host
 * named in code). With no default registry configured such names live
 * under `localhost/`, as podman keeps images that came from no registry.
 */
import { invalidArgument } from '../../errors.ts';

export interface ReferenceDefaults {
  /** The registry a name without one refers to ("host[:port]"), if any. */
  registry?: string;
  /** Prefix for one-component names on the default registry (the docker CLI uses "library"). */
  officialNamespace?: string;
}

export interface ImageReference {
  domain: string;
  /** Repository path inside the registry, e.g. "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
  /** True when the name gave no registry and `domain` came from the defaults. */
  implicitDomain: boolean;
}

export const LOCAL_DOMAIN = 'localhost';
export const DEFAULT_TAG = 'latest';

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const MAX_NAME = 255;

function bad(input: string, why: string): never {
  throw invalidArgument('invalid_reference', `image reference "${input}": ${why}`);
}

/** Splits "name[:tag][@digest]" (a ":" after the last "/" starts the tag). */
function splitTagDigest(input: string): { name: string; tag?: string; digest?: string } {
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) bad(input, `digest "${digest}" is not valid`);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    const tag = rest.slice(colon + 1);
    if (!TAG_RE.test(tag)) bad(input, `tag "${tag}" is not valid`);
    return digest === undefined ? { name: rest.slice(0, colon), tag } : { name: rest.slice(0, colon), tag, digest };
  }
  return digest === undefined ? { name: rest } : { name: rest, digest };
}

export function parseReference(input: string, defaults: ReferenceDefaults = {}): ImageReference {
  if (input.length === 0) bad(input, 'empty');
  const { name, tag, digest } = splitTagDigest(input);
  if (name.length === 0) bad(input, 'no repository name');
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === LOCAL_DOMAIN || first.toLowerCase() !== first);
  let domain: string;
  let path: string;
  let implicitDomain = false;
  if (hasDomain) {
    domain = first;
    path = name.slice(slash + 1);
    if (!DOMAIN_RE.test(domain)) bad(input, `registry "${domain}" is not a valid host[:port]`);
  } else {
    implicitDomain = true;
    domain = defaults.registry ?? LOCAL_DOMAIN;
    path = name;
    if (defaults.registry !== undefined && defaults.officialNamespace !== undefined && !path.includes('/')) {
      path = `${defaults.officialNamespace}/${path}`;
    }
  }
  if (path.toLowerCase() !== path) bad(input, 'repository name must be lowercase');
  if (!PATH_RE.test(path)) bad(input, `repository "${path}" is not valid`);
  if (domain.length + 1 + path.length > MAX_NAME) bad(input, `name longer than ${MAX_NAME} characters`);
  const ref: ImageReference = { domain, path, implicitDomain };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** "domain/path" */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The canonical string: "domain/path[:tag][@digest]". */
export function formatReference(ref: ImageReference): string {
  let s = repositoryName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** Adds the "latest" tag to a reference that has neither tag nor digest. */
export function withDefaultTag(ref: ImageReference): ImageReference {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return { ...ref, tag: DEFAULT_TAG };
}

/** The name as users type it: default registry and official namespace left out. */
export function familiarName(canonical: string, defaults: ReferenceDefaults = {}): string {
  if (defaults.registry === undefined) return canonical;
  const prefix = `${defaults.registry}/`;
  if (!canonical.startsWith(prefix)) return canonical;
  let rest = canonical.slice(prefix.length);
  const ns = defaults.officialNamespace;
  if (ns !== undefined && rest.startsWith(`${ns}/`) && !rest.slice(ns.length + 1).split(/[:@]/)[0]?.includes('/')) {
    rest = rest.slice(ns.length + 1);
  }
  return rest;
}

/**
 * The defaults from the environment: BERTH_DEFAULT_REGISTRY ("host[:port]")
 * and BERTH_OFFICIAL_NAMESPACE (e.g. "library").
 */
export function referenceDefaultsFromEnv(env: NodeJS.ProcessEnv = process.env): ReferenceDefaults {
  const d: ReferenceDefaults = {};
  const registry = env['BERTH_DEFAULT_REGISTRY'];
  if (registry !== undefined && registry !== '') {
    if (!DOMAIN_RE.test(registry)) {
      throw invalidArgument('invalid_default_registry', `BERTH_DEFAULT_REGISTRY "${registry}": not a host[:port]`);
    }
    d.registry = registry;
  }
  const ns = env['BERTH_OFFICIAL_NAMESPACE'];
  if (ns !== undefined && ns !== '') d.officialNamespace = ns;
  return d;
}
