import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseContainerfile } from '../../../../src/image/build/containerfile/parse.ts';
import { BuildArgs } from '../../../../src/image/build/args.ts';
import { BuildCache } from '../../../../src/image/build/cache.ts';
import { dispatch } from '../../../../src/image/build/dispatch/index.ts';
import { dispatchFrom } from '../../../../src/image/build/dispatch/from.ts';
import { expandWord } from '../../../../src/image/build/containerfile/shell-lex.ts';
import { finalConfig } from '../../../../src/image/build/commit.ts';
import type { Session } from '../../../../src/image/build/session.ts';
import type { StageState } from '../../../../src/image/build/state.ts';
import type { ImageConfig } from '../../../../src/oci/image-spec.ts';

const platform = { os: 'linux', architecture: 'amd64' };

/** Runs the metadata-only instructions of a Containerfile (FROM scratch stages) and returns each stage's config. */
async function run(t: TestContext, text: string, buildArgs: Record<string, string> = {}): Promise<{ configs: ImageConfig[]; states: StageState[]; args: BuildArgs }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-build-dispatch-'));
  const cache = new BuildCache(join(dir, 'cache.db'));
  t.after(() => {
    cache.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cf = parseContainerfile(text, 'Containerfile');
  const args = new BuildArgs(new Map(Object.entries(buildArgs)), platform);
  for (const g of cf.globalArgs) for (const a of g.args) args.declareGlobal(a.name, a.value === undefined ? undefined : expandWord(a.value, args.global));
  const session = {
    cf,
    cache,
    args,
    platform,
    platformText: 'linux/amd64',
    noCache: false,
    epoch: undefined,
    fixedTime: '2024-01-02T03:04:05.000Z',
    built: new Map(),
    emit: () => undefined,
    signal: undefined,
    keep: () => undefined,
    counters: { steps: 0, total: 0, cached: 0, runs: 0 },
  } as unknown as Session;
  const states: StageState[] = [];
  for (const stage of cf.stages) {
    const { state } = await dispatchFrom(session, stage);
    for (const ins of stage.instructions) await dispatch(session, state, ins);
    session.built.set(stage.index, state);
    states.push(state);
  }
  return { configs: states.map((s) => finalConfig(s, 'unused')), states, args };
}

test('CMD and ENTRYPOINT: shell form through SHELL, exec form as is; ENTRYPOINT resets an inherited CMD but not one set in the stage', async (t) => {
  const { configs } = await run(
    t,
    [
      'FROM scratch AS base',
      'CMD ["base-cmd"]',
      'FROM base AS inherits',
      'ENTRYPOINT ["/entry"]',
      'FROM base AS own',
      'CMD echo $HOME',
      'ENTRYPOINT ["/entry"]',
      'FROM scratch AS shell',
      'SHELL ["/bin/bash", "-eu", "-c"]',
      'ENTRYPOINT exec server',
    ].join('\n'),
  );
  const [base, inherits, own, shell] = configs.map((c) => c.config ?? {});
  assert.deepEqual(base?.Cmd, ['base-cmd']);
  assert.equal(inherits?.Cmd, undefined, 'the inherited CMD is reset by ENTRYPOINT');
  assert.deepEqual(inherits?.Entrypoint, ['/entry']);
  assert.deepEqual(own?.Cmd, ['/bin/sh', '-c', 'echo $HOME'], 'shell form, variables left to the shell');
  assert.deepEqual(shell?.Entrypoint, ['/bin/bash', '-eu', '-c', 'exec server']);
  assert.deepEqual(shell?.Shell, ['/bin/bash', '-eu', '-c']);
});

test('ENV: values expand with what was set before the instruction; ENV wins over ARG; PATH defaults', async (t) => {
  const { configs } = await run(t, ['FROM scratch', 'ARG A=from-arg', 'ENV A=one B=$A', 'ENV C="${A}-${B}" D=${UNSET:-dflt} E=\'$A\'', 'ENV OLD form with  spaces'].join('\n'));
  const env = configs[0]?.config?.Env ?? [];
  assert.deepEqual(env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=one', 'B=from-arg', 'C=one-from-arg', 'D=dflt', 'E=$A', 'OLD=form with  spaces']);
});

test('ARG scoping: globals only in FROM unless redeclared; --build-arg wins over defaults; stage ARGs end with the stage', async (t) => {
  const text = [
    'ARG GLOBAL=g-default',
    'ARG OVERRIDDEN=o-default',
    'FROM scratch AS one',
    'LABEL before="$GLOBAL"',
    'ARG GLOBAL',
    'ARG LOCAL=l-default',
    'ARG OVERRIDDEN',
    'LABEL after="$GLOBAL" local="$LOCAL" over="$OVERRIDDEN" arch="$TARGETARCH"',
    'ARG TARGETARCH',
    'LABEL arch2="$TARGETARCH"',
    'FROM scratch AS two',
    'LABEL local="$LOCAL"',
  ].join('\n');
  const { configs, args } = await run(t, text, { OVERRIDDEN: 'from-cli', UNUSED: 'x' });
  assert.deepEqual(configs[0]?.config?.Labels, { before: '', after: 'g-default', local: 'l-default', over: 'from-cli', arch: '', arch2: 'amd64' });
  assert.deepEqual(configs[1]?.config?.Labels, { local: '' }, 'a stage ARG is not in scope in the next stage');
  assert.deepEqual(args.unused(), ['UNUSED']);
});

test('FROM expands global ARGs; stage names are matched case-insensitively', async (t) => {
  const { states } = await run(t, ['ARG BASE=first', 'FROM scratch AS First', 'LABEL x=1', 'FROM ${BASE}', 'LABEL y=2'].join('\n'));
  assert.equal(states[1]?.baseName, 'stage "first"');
  assert.deepEqual(states[1]?.config.config?.Labels, { x: '1', y: '2' });
});

test('EXPOSE, VOLUME, USER, WORKDIR-free metadata, STOPSIGNAL, HEALTHCHECK, LABEL, MAINTAINER, ONBUILD', async (t) => {
  const { configs } = await run(
    t,
    [
      'FROM scratch',
      'ARG P=8080',
      'EXPOSE $P 53/udp 7000-7002',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /cache',
      'USER app:staff',
      'STOPSIGNAL SIGQUIT',
      'HEALTHCHECK --interval=1m30s --timeout=5s --retries=3 CMD wget -q localhost',
      'LABEL "com.example.a"="x y" b=c',
      'MAINTAINER someone <s@example.invalid>',
      'ONBUILD RUN echo child',
    ].join('\n'),
  );
  const c = configs[0];
  const d = c?.config ?? {};
  assert.deepEqual(Object.keys(d.ExposedPorts ?? {}).sort(), ['53/udp', '7000/tcp', '7001/tcp', '7002/tcp', '8080/tcp']);
  assert.deepEqual(d.Volumes, { '/data': {}, '/logs': {}, '/cache': {} });
  assert.equal(d.User, 'app:staff');
  assert.equal(d.StopSignal, 'SIGQUIT');
  assert.deepEqual(d.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 90e9, Timeout: 5e9, Retries: 3 });
  assert.deepEqual(d.Labels, { 'com.example.a': 'x y', b: 'c' });
  assert.equal(c?.author, 'someone <s@example.invalid>');
  assert.deepEqual(d.OnBuild, ['RUN echo child']);
  const history = c?.history ?? [];
  assert.equal(history.length, 9, 'ARG adds no history; every other instruction does');
  assert.ok(history.every((h) => h.empty_layer === true && h.created === '2024-01-02T03:04:05.000Z'));
  assert.equal(history[0]?.created_by, '/bin/sh -c #(nop)  EXPOSE 53/udp 7000/tcp 7001/tcp 7002/tcp 8080/tcp');
  assert.equal(c?.created, '2024-01-02T03:04:05.000Z', "the image's time is its last step's");
});

test('bad values name the line: ports, signals, durations, undefined required variables', async (t) => {
  await assert.rejects(run(t, 'FROM scratch\nEXPOSE 99999'), /^BerthError: Containerfile:2: EXPOSE: invalid port "99999"/);
  await assert.rejects(run(t, 'FROM scratch\nSTOPSIGNAL $$$'), /Containerfile:2: STOPSIGNAL: invalid signal/);
  await assert.rejects(run(t, 'FROM scratch\nHEALTHCHECK --interval=soon CMD true'), /Containerfile:2: HEALTHCHECK: invalid duration "soon"/);
  await assert.rejects(run(t, 'FROM scratch\nENV X="${MISSING:?must be given}"'), /Containerfile:2: ENV: MISSING: must be given/);
  await assert.rejects(run(t, 'FROM scratch\nLABEL x="unterminated'), /Containerfile:2: LABEL: unexpected end of statement while looking for matching double-quote/);
});

test('a second identical run reuses the history times from the cache, so the config is byte-identical', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-build-dispatch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const text = 'FROM scratch\nENV A=1\nLABEL b=2\nCMD ["x"]\n';
  const first = await run(t, text);
  const second = await run(t, text);
  assert.deepEqual(first.configs[0]?.history?.map((h) => h.created_by), second.configs[0]?.history?.map((h) => h.created_by));
  assert.equal(first.states[0]?.key, second.states[0]?.key, 'the chained cache key depends only on the instructions');
  const changed = await run(t, 'FROM scratch\nENV A=2\nLABEL b=2\nCMD ["x"]\n');
  assert.notEqual(changed.states[0]?.key, first.states[0]?.key);
});
