import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseContainerfile } from '../../../../src/image/build/containerfile/parse.ts';
import { splitLines } from '../../../../src/image/build/containerfile/lines.ts';
import type { Instruction } from '../../../../src/image/build/containerfile/instructions.ts';

const parse = (text: string): ReturnType<typeof parseContainerfile> => parseContainerfile(text, 'Containerfile');
const only = (text: string): Instruction => {
  const cf = parse(`FROM scratch\n${text}`);
  const ins = cf.stages[0]?.instructions[0];
  assert.ok(ins, 'one instruction');
  return ins;
};

test('continuations join lines; comments and blank lines inside them are skipped; line numbers are where the instruction starts', () => {
  const cf = parse(['FROM scratch', '# a comment', 'RUN echo a \\', '  # inside', '    b \\', '', '  c', 'ENV A=1'].join('\n'));
  const [run, env] = cf.stages[0]?.instructions ?? [];
  assert.equal(run?.kind, 'RUN');
  assert.deepEqual(run?.kind === 'RUN' ? run.form : undefined, { json: false, command: 'echo a     b   c' });
  assert.equal(run?.loc.line, 3);
  assert.equal(env?.loc.line, 8);
  assert.equal(cf.warnings.length, 1, 'the empty continuation line is warned about');
  assert.match(cf.warnings[0] ?? '', /^Containerfile:3: empty continuation line/);
});

test('a continuation backslash followed by blanks still continues; an escaped escape at the end does too (as BuildKit)', () => {
  const { lines } = splitLines('RUN a \\  \n b\nRUN c\n', 'f');
  assert.deepEqual(lines.map((l) => [l.text, l.line, l.endLine]), [['RUN a  b', 1, 2], ['RUN c', 3, 3]]);
});

test('# escape=` makes the backtick the escape and continuation character; backslashes become literal', () => {
  const cf = parse(['# escape=`', 'FROM scratch', 'COPY C:\\dir\\ `', '  /dest/', 'ENV P="a`"b"'].join('\n'));
  assert.equal(cf.directives.escape, '`');
  const [copy, env] = cf.stages[0]?.instructions ?? [];
  assert.deepEqual(copy?.kind === 'COPY' ? copy.paths : undefined, ['C:\\dir\\', '/dest/']);
  assert.deepEqual(env?.kind === 'ENV' ? env.pairs : undefined, [{ key: 'P', value: '"a`"b"' }]);
});

test('directives only count before anything else; syntax is recorded and noted as ignored; duplicates and bad escapes fail', () => {
  const late = parse(['FROM scratch', '# escape=`', 'RUN a \\', 'b'].join('\n'));
  assert.equal(late.directives.escape, '\\', 'a directive after an instruction is a comment');
  const afterBlank = parse(['', '# escape=`', 'FROM scratch'].join('\n'));
  assert.equal(afterBlank.directives.escape, '\\', 'a blank line ends the directives');
  const syntax = parse(['# syntax=docker/dockerfile:1', '# ESCAPE = \\', 'FROM scratch'].join('\n'));
  assert.equal(syntax.directives.syntax, 'docker/dockerfile:1');
  assert.match(syntax.warnings.join('\n'), /syntax=docker\/dockerfile:1" directive is ignored/);
  assert.throws(() => parse('# escape=\\\n# escape=`\nFROM scratch'), /^BerthError: Containerfile:2: only one escape parser directive can be used$/);
  assert.throws(() => parse('# escape=x\nFROM scratch'), /Containerfile:1: invalid escape token 'x'/);
});

test('JSON (exec) form versus shell form for RUN, CMD, ENTRYPOINT; SHELL requires JSON; non-string arrays fail', () => {
  assert.deepEqual(only('RUN ["echo", "a b"]').kind === 'RUN' ? (only('RUN ["echo", "a b"]') as { form: unknown }).form : 0, { json: true, args: ['echo', 'a b'] });
  const shell = only('CMD [not json');
  assert.deepEqual(shell.kind === 'CMD' ? shell.form : 0, { json: false, command: '[not json' });
  const ep = only("ENTRYPOINT ['single', 'quotes']");
  assert.deepEqual(ep.kind === 'ENTRYPOINT' ? ep.form : 0, { json: false, command: "['single', 'quotes']" }, 'single quotes are not JSON: shell form, as Docker');
  const sh = only('SHELL ["/bin/bash", "-eu", "-c"]');
  assert.deepEqual(sh.kind === 'SHELL' ? sh.args : 0, ['/bin/bash', '-eu', '-c']);
  assert.throws(() => only('SHELL /bin/bash -c'), /^BerthError: Containerfile:2: SHELL: SHELL requires the arguments to be in JSON form/);
  assert.throws(() => only('RUN ["echo", 1]'), /Containerfile:2: RUN: when using JSON array syntax, arrays must be comprised of strings only/);
});

test('COPY and ADD: flags, JSON form, at least two paths; unknown flags and missing values fail', () => {
  const c = only('COPY --from=build --chown=app:app --chmod=640 --link a b /dest/');
  assert.equal(c.kind, 'COPY');
  assert.deepEqual(c.flags, [
    { name: 'from', value: 'build' },
    { name: 'chown', value: 'app:app' },
    { name: 'chmod', value: '640' },
    { name: 'link', value: undefined },
  ]);
  assert.deepEqual(c.kind === 'COPY' ? c.paths : 0, ['a', 'b', '/dest/']);
  const j = only('ADD ["a file", "/x y/"]');
  assert.deepEqual(j.kind === 'ADD' ? [j.json, j.paths] : 0, [true, ['a file', '/x y/']]);
  assert.throws(() => only('COPY onlyone'), /^BerthError: Containerfile:2: COPY: COPY requires at least two arguments/);
  assert.throws(() => only('COPY --frm=x a b'), /^BerthError: Containerfile:2: COPY: unknown flag: --frm$/);
  assert.throws(() => only('COPY --from a b'), /COPY: --from needs a value/);
  assert.throws(() => only('RUN --bogus=1 true'), /RUN: unknown flag: --bogus/);
});

test('ENV and LABEL: name=value pairs with quotes kept for expansion, and the old "name value" form', () => {
  const e = only('ENV A=1 B="two words" C=three\\ words');
  assert.deepEqual(e.kind === 'ENV' ? e.pairs : 0, [
    { key: 'A', value: '1' },
    { key: 'B', value: '"two words"' },
    { key: 'C', value: 'three\\ words' },
  ]);
  const old = only('ENV NAME some value  here');
  assert.deepEqual(old.kind === 'ENV' ? old.pairs : 0, [{ key: 'NAME', value: 'some value  here' }]);
  assert.throws(() => only('ENV A=1 B'), /ENV: syntax error - can't find = in "B"/);
  assert.throws(() => only('LABEL onlykey'), /LABEL: LABEL must have two arguments/);
});

test('ARG: names with and without defaults; invalid names fail', () => {
  const a = only('ARG A B=2 C="x y"');
  assert.deepEqual(a.kind === 'ARG' ? a.args : 0, [
    { name: 'A', value: undefined },
    { name: 'B', value: '2' },
    { name: 'C', value: '"x y"' },
  ]);
  assert.throws(() => only('ARG 1bad=x'), /ARG: invalid ARG name "1bad"/);
});

test('stages: global ARGs before FROM, names lower-cased and unique; nothing else before FROM', () => {
  const cf = parse(['ARG BASE=scratch', 'FROM $BASE AS Build', 'RUN x', 'FROM build', 'COPY --from=build /a /b'].join('\n'));
  assert.equal(cf.globalArgs.length, 1);
  assert.deepEqual(cf.stages.map((s) => [s.index, s.name, s.from.image, s.instructions.length]), [
    [0, 'build', '$BASE', 1],
    [1, undefined, 'build', 1],
  ]);
  assert.throws(() => parse('RUN x\nFROM scratch'), /^BerthError: Containerfile:1: RUN: no build stage in current context/);
  assert.throws(() => parse('FROM a AS x\nFROM b AS x'), /Containerfile:2: FROM: duplicate stage name "x" \(first defined on line 1\)/);
  assert.throws(() => parse('FROM a AS 9x'), /FROM: invalid stage name "9x"/);
  assert.throws(() => parse('FROM a b'), /FROM: FROM requires either one or three arguments/);
  assert.throws(() => parse('# only a comment\n'), /Containerfile:1: file with no instructions/);
  assert.throws(() => parse('ARG X\n'), /no FROM instruction/);
});

test('unknown instructions and argument counts name the file and line', () => {
  assert.throws(() => parse('FROM scratch\n\nFROB x'), /^BerthError: Containerfile:3: unknown instruction: FROB$/);
  assert.throws(() => only('WORKDIR'), /^BerthError: Containerfile:2: WORKDIR: WORKDIR requires exactly one argument$/);
  assert.throws(() => only('RUN'), /Containerfile:2: RUN: RUN requires at least one argument/);
  assert.throws(() => only('ONBUILD FROM x'), /ONBUILD: FROM is not allowed as an ONBUILD trigger/);
});

test('HEALTHCHECK: NONE, CMD in shell and exec form, options as flags', () => {
  const h = only('HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost');
  assert.deepEqual(h.kind === 'HEALTHCHECK' ? h.test : 0, ['CMD-SHELL', 'wget -q localhost']);
  assert.deepEqual(h.flags.map((f) => f.name), ['interval', 'retries']);
  const n = only('HEALTHCHECK NONE');
  assert.deepEqual(n.kind === 'HEALTHCHECK' ? n.test : 0, ['NONE']);
  const e = only('HEALTHCHECK CMD ["true"]');
  assert.deepEqual(e.kind === 'HEALTHCHECK' ? e.test : 0, ['CMD', 'true']);
});

test('RUN heredocs collect their body up to the terminator; <<- strips leading tabs; unterminated fails', () => {
  const cf = parse(['FROM scratch', 'RUN <<EOF', 'echo one', 'echo two', 'EOF', 'RUN cat <<-"END" > /f', '\tindented', '\tEND', 'ENV X=1'].join('\n'));
  const [a, b, env] = cf.stages[0]?.instructions ?? [];
  assert.deepEqual(a?.kind === 'RUN' ? a.heredocs : 0, [{ name: 'EOF', chomp: false, quoted: false, content: 'echo one\necho two\n' }]);
  assert.deepEqual(b?.kind === 'RUN' ? b.heredocs : 0, [{ name: 'END', chomp: true, quoted: true, content: 'indented\n' }]);
  assert.equal(env?.loc.line, 9);
  assert.throws(() => parse('FROM scratch\nRUN <<EOF\necho\n'), /Containerfile:2: RUN: unterminated heredoc <<EOF/);
});

test('CRLF line ends and a byte-order mark are accepted', () => {
  const cf = parse('\uFEFFFROM scratch\r\nENV A=1 \\\r\n  B=2\r\n');
  const env = cf.stages[0]?.instructions[0];
  assert.deepEqual(env?.kind === 'ENV' ? env.pairs : 0, [{ key: 'A', value: '1' }, { key: 'B', value: '2' }]);
});
