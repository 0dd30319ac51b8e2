/**
 * Instructions that only change the image config: ENV, LABEL, CMD,
 * ENTRYPOINT, SHELL, USER, EXPOSE, VOLUME, STOPSIGNAL, MAINTAINER,
 * HEALTHCHECK, ONBUILD. Each adds a history entry with `empty_layer`, its
 * created_by in Docker's `/bin/sh -c #(nop) ...` form. CMD and ENTRYPOINT
 * follow Docker's interplay: the shell form runs through SHELL (default
 * /bin/sh -c), and an ENTRYPOINT resets a CMD inherited from the base
 * (a CMD set earlier in the same stage stays).
 */
import { describeError, invalidArgument } from '../../../errors.ts';
import { syntaxError } from '../errors.ts';
import { parseDuration } from '../duration.ts';
import type { CommandForm, Instruction } from '../containerfile/instructions.ts';
import { expandWord, expandWords, ExpansionError } from '../containerfile/shell-lex.ts';
import { nop, step, type Session } from '../session.ts';
import { details, expansionVars, setEnv, shellOf, type StageState } from '../state.ts';

export type Of<K extends Instruction['kind']> = Instruction & { kind: K };

/** Expands a word, turning a lexer error into one naming the line. */
export function expand(session: Session, s: StageState, ins: Instruction, word: string): string {
  try {
    return expandWord(word, expansionVars(s), session.cf.directives.escape);
  } catch (err) {
    if (err instanceof ExpansionError) throw syntaxError(ins.loc, ins.keyword, err.message, { cause: err });
    throw err;
  }
}

function expandList(session: Session, s: StageState, ins: Instruction, word: string): string[] {
  try {
    return expandWords(word, expansionVars(s), session.cf.directives.escape);
  } catch (err) {
    if (err instanceof ExpansionError) throw syntaxError(ins.loc, ins.keyword, err.message, { cause: err });
    throw err;
  }
}

export function commandArgs(s: StageState, form: CommandForm): string[] {
  return form.json ? form.args : [...shellOf(s), form.command];
}

const json = (v: unknown): string => JSON.stringify(v);

async function meta(session: Session, s: StageState, createdBy: string, apply: (s: StageState) => void): Promise<void> {
  await step(session, s, { createdBy: nop(createdBy), layered: false, apply });
}

export async function dispatchEnv(session: Session, s: StageState, ins: Of<'ENV'>): Promise<void> {
  const pairs = ins.pairs.map((p) => [expand(session, s, ins, p.key), expand(session, s, ins, p.value)] as const);
  for (const [k] of pairs) if (k === '') throw syntaxError(ins.loc, 'ENV', 'ENV names must not be empty');
  await meta(session, s, ` ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, (st) => {
    let env = details(st).Env ?? [];
    for (const [k, v] of pairs) env = setEnv(env, k, v);
    details(st).Env = env;
  });
}

export async function dispatchLabel(session: Session, s: StageState, ins: Of<'LABEL'>): Promise<void> {
  const pairs = ins.pairs.map((p) => [expand(session, s, ins, p.key), expand(session, s, ins, p.value)] as const);
  for (const [k] of pairs) if (k === '') throw syntaxError(ins.loc, 'LABEL', 'LABEL names must not be empty');
  await meta(session, s, ` LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, (st) => {
    const labels = { ...details(st).Labels };
    for (const [k, v] of pairs) labels[k] = v;
    details(st).Labels = labels;
  });
}

export async function dispatchCmd(session: Session, s: StageState, ins: Of<'CMD'>): Promise<void> {
  const args = commandArgs(s, ins.form);
  await meta(session, s, ` CMD ${json(args)}`, (st) => {
    details(st).Cmd = args;
    st.cmdSet = true;
  });
}

export async function dispatchEntrypoint(session: Session, s: StageState, ins: Of<'ENTRYPOINT'>): Promise<void> {
  const args = commandArgs(s, ins.form);
  await meta(session, s, ` ENTRYPOINT ${json(args)}`, (st) => {
    details(st).Entrypoint = args;
    // An ENTRYPOINT resets a CMD that came with the base image (docs: "CMD ... will be reset").
    if (!st.cmdSet) delete details(st).Cmd;
  });
}

export async function dispatchShell(session: Session, s: StageState, ins: Of<'SHELL'>): Promise<void> {
  await meta(session, s, ` SHELL ${json(ins.args)}`, (st) => {
    details(st).Shell = ins.args;
  });
}

export async function dispatchUser(session: Session, s: StageState, ins: Of<'USER'>): Promise<void> {
  const user = expand(session, s, ins, ins.value);
  if (user === '') throw syntaxError(ins.loc, 'USER', 'USER must not be empty');
  await meta(session, s, ` USER ${user}`, (st) => {
    details(st).User = user;
  });
}

const PORT = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i;

export function exposedPorts(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const m = PORT.exec(w);
    const lo = Number(m?.[1]);
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (m === null || lo < 1 || hi > 65535 || hi < lo) throw invalidArgument('build_syntax', `invalid port "${w}" (want PORT[-PORT][/tcp|/udp|/sctp])`);
    const proto = (m[3] ?? 'tcp').toLowerCase();
    for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  }
  return out;
}

export async function dispatchExpose(session: Session, s: StageState, ins: Of<'EXPOSE'>): Promise<void> {
  let ports: string[];
  try {
    ports = exposedPorts(ins.ports.flatMap((p) => expandList(session, s, ins, p)));
  } catch (err) {
    throw syntaxError(ins.loc, 'EXPOSE', describeError(err), { cause: err });
  }
  await meta(session, s, ` EXPOSE ${[...new Set(ports)].sort().join(' ')}`, (st) => {
    const exposed = { ...details(st).ExposedPorts };
    for (const p of ports) exposed[p] = {};
    details(st).ExposedPorts = exposed;
  });
}

export async function dispatchVolume(session: Session, s: StageState, ins: Of<'VOLUME'>): Promise<void> {
  const paths = ins.paths.map((p) => expand(session, s, ins, p));
  if (paths.some((p) => p.trim() === '')) throw syntaxError(ins.loc, 'VOLUME', 'VOLUME paths must not be empty');
  await meta(session, s, ` VOLUME ${json(paths)}`, (st) => {
    const volumes = { ...details(st).Volumes };
    for (const p of paths) volumes[p] = {};
    details(st).Volumes = volumes;
  });
}

const SIGNAL = /^(?:(?:SIG)?[A-Z][A-Z0-9+-]*|\d+)$/;

export async function dispatchStopSignal(session: Session, s: StageState, ins: Of<'STOPSIGNAL'>): Promise<void> {
  const sig = expand(session, s, ins, ins.value);
  if (!SIGNAL.test(sig)) throw syntaxError(ins.loc, 'STOPSIGNAL', `invalid signal "${sig}"`);
  await meta(session, s, ` STOPSIGNAL ${sig}`, (st) => {
    details(st).StopSignal = sig;
  });
}

export async function dispatchMaintainer(session: Session, s: StageState, ins: Of<'MAINTAINER'>): Promise<void> {
  const who = ins.value;
  await meta(session, s, ` MAINTAINER ${who}`, (st) => {
    st.config.author = who;
  });
}

export { parseDuration };

export async function dispatchHealthcheck(session: Session, s: StageState, ins: Of<'HEALTHCHECK'>): Promise<void> {
  const hc: NonNullable<ReturnType<typeof details>['Healthcheck']> & { StartInterval?: number } = { Test: ins.test ?? ['NONE'] };
  try {
    for (const f of ins.flags) {
      const v = f.value ?? '';
      if (f.name === 'retries') {
        if (!/^\d+$/.test(v)) throw invalidArgument('build_syntax', `--retries=${v}: want a whole number`);
        hc.Retries = Number(v);
      } else {
        const ns = parseDuration(v);
        if (f.name === 'interval') hc.Interval = ns;
        else if (f.name === 'timeout') hc.Timeout = ns;
        else if (f.name === 'start-period') hc.StartPeriod = ns;
        else hc.StartInterval = ns;
      }
    }
  } catch (err) {
    throw syntaxError(ins.loc, 'HEALTHCHECK', describeError(err), { cause: err });
  }
  await meta(session, s, ` HEALTHCHECK ${json(hc)}`, (st) => {
    details(st).Healthcheck = hc;
  });
}

export async function dispatchOnbuild(session: Session, s: StageState, ins: Of<'ONBUILD'>): Promise<void> {
  await meta(session, s, ` ONBUILD ${ins.trigger}`, (st) => {
    details(st).OnBuild = [...(details(st).OnBuild ?? []), ins.trigger];
  });
}
