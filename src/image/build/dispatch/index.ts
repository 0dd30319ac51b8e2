/** One instruction of a stage, sent to what carries it out; ARG is handled here (it changes only the scope). */
import { syntaxError } from '../errors.ts';
import type { Instruction } from '../containerfile/instructions.ts';
import { expandWord, ExpansionError } from '../containerfile/shell-lex.ts';
import type { Session } from '../session.ts';
import { expansionVars, type StageState } from '../state.ts';
import { dispatchCopy } from './copy.ts';
import {
  dispatchCmd,
  dispatchEntrypoint,
  dispatchEnv,
  dispatchExpose,
  dispatchHealthcheck,
  dispatchLabel,
  dispatchMaintainer,
  dispatchOnbuild,
  dispatchShell,
  dispatchStopSignal,
  dispatchUser,
  dispatchVolume,
  type Of,
} from './metadata.ts';
import { dispatchRun } from './run.ts';
import { dispatchWorkdir } from './workdir.ts';

function dispatchArg(session: Session, s: StageState, ins: Of<'ARG'>): void {
  for (const a of ins.args) {
    let dflt: string | undefined;
    try {
      dflt = a.value === undefined ? undefined : expandWord(a.value, expansionVars(s), session.cf.directives.escape);
    } catch (err) {
      if (err instanceof ExpansionError) throw syntaxError(ins.loc, 'ARG', err.message, { cause: err });
      throw err;
    }
    s.args.set(a.name, session.args.declareInStage(a.name, dflt));
  }
}

export async function dispatch(session: Session, s: StageState, ins: Instruction): Promise<void> {
  switch (ins.kind) {
    case 'FROM':
      throw syntaxError(ins.loc, 'FROM', 'FROM inside a stage');
    case 'ARG':
      dispatchArg(session, s, ins);
      return;
    case 'RUN':
      return dispatchRun(session, s, ins);
    case 'COPY':
    case 'ADD':
      return dispatchCopy(session, s, ins);
    case 'WORKDIR':
      return dispatchWorkdir(session, s, ins);
    case 'ENV':
      return dispatchEnv(session, s, ins);
    case 'LABEL':
      return dispatchLabel(session, s, ins);
    case 'CMD':
      return dispatchCmd(session, s, ins);
    case 'ENTRYPOINT':
      return dispatchEntrypoint(session, s, ins);
    case 'SHELL':
      return dispatchShell(session, s, ins);
    case 'USER':
      return dispatchUser(session, s, ins);
    case 'EXPOSE':
      return dispatchExpose(session, s, ins);
    case 'VOLUME':
      return dispatchVolume(session, s, ins);
    case 'STOPSIGNAL':
      return dispatchStopSignal(session, s, ins);
    case 'MAINTAINER':
      return dispatchMaintainer(session, s, ins);
    case 'HEALTHCHECK':
      return dispatchHealthcheck(session, s, ins);
    case 'ONBUILD':
      return dispatchOnbuild(session, s, ins);
  }
}
