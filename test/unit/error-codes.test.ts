/**
 * The catalogue (src/error-codes.ts) against the code: every code a
 * BerthError is made with appears in the catalogue with the kind it is made
 * with, every catalogued code is made somewhere, all in one style, and a
 * plain `throw new Error` is left only where a comment says it is an
 * assertion (a bug of berth's, never a user's input). The source is parsed
 * with TypeScript's parser (no type checking) so a code on the next line,
 * in a ternary or passed through a helper is still seen.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { ERROR_CODES } from '../../src/error-codes.ts';
import { ErrorKind } from '../../src/errors.ts';

const SRC = join(import.meta.dirname, '../../src');
const CATALOGUE = join(SRC, 'error-codes.ts');
const STYLE = /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/;

/** Functions that make a BerthError: where their code is, and their kind when the name fixes it. */
const MAKERS: Record<string, { arg: number; kind?: ErrorKind }> = {
  notFound: { arg: 0, kind: ErrorKind.NotFound },
  alreadyExists: { arg: 0, kind: ErrorKind.AlreadyExists },
  invalidArgument: { arg: 0, kind: ErrorKind.InvalidArgument },
  failedPrecondition: { arg: 0, kind: ErrorKind.FailedPrecondition },
  unavailable: { arg: 0, kind: ErrorKind.Unavailable },
  unsupported: { arg: 0, kind: ErrorKind.Unsupported },
  internal: { arg: 0, kind: ErrorKind.Internal },
  permissionDenied: { arg: 0, kind: ErrorKind.PermissionDenied },
  BerthError: { arg: 1 },
  buildError: { arg: 1 },
};

interface Use {
  code: string;
  kind: ErrorKind | undefined;
  where: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** `ErrorKind.NotFound` as its value, undefined when the kind is computed. */
function kindOf(node: ts.Expression | undefined): ErrorKind | undefined {
  if (node === undefined || !ts.isPropertyAccessExpression(node) || node.expression.getText() !== 'ErrorKind') return undefined;
  return (ErrorKind as Record<string, ErrorKind>)[node.name.text];
}

/** The string literals an expression can evaluate to (both arms of a ternary). */
function literals(node: ts.Node | undefined): string[] {
  if (node === undefined) return [];
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isConditionalExpression(node)) return [...literals(node.whenTrue), ...literals(node.whenFalse)];
  if (ts.isParenthesizedExpression(node)) return literals(node.expression);
  return [];
}

function calleeName(node: ts.CallExpression | ts.NewExpression): string | undefined {
  const e = node.expression;
  if (ts.isIdentifier(e)) return e.text;
  // super(...) in a class extending BerthError makes one too.
  if (e.kind === ts.SyntaxKind.SuperKeyword) {
    const cls = ts.findAncestor(node, ts.isClassDeclaration);
    const base = cls?.heritageClauses?.[0]?.types[0]?.expression.getText();
    return base === 'BerthError' ? 'BerthError' : undefined;
  }
  return undefined;
}

/** Every code src/ makes an error with, and the kind when it is written out. */
function scan(): { uses: Use[]; templates: string[]; unmarkedThrows: string[] } {
  const uses: Use[] = [];
  const templates: string[] = [];
  const unmarkedThrows: string[] = [];
  for (const file of sourceFiles(SRC)) {
    if (file === CATALOGUE) continue;
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const at = (n: ts.Node): string => `${relative(SRC, file)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n) || ts.isNewExpression(n)) {
        const name = calleeName(n);
        const maker = name === undefined ? undefined : MAKERS[name];
        if (maker !== undefined) {
          const arg = n.arguments?.[maker.arg];
          const kind = maker.kind ?? kindOf(n.arguments?.[0]);
          for (const code of literals(arg)) uses.push({ code, kind, where: at(n) });
          if (arg !== undefined && ts.isTemplateExpression(arg)) templates.push(at(n));
        }
      }
      // A code chosen before the error is made: `const code = ... 'build_failed'`, `{ kind: ErrorKind.X, code: '...' }`.
      if (ts.isVariableDeclaration(n) && n.name.getText(sf) === 'code' && n.initializer !== undefined) {
        for (const code of literals(n.initializer).filter((c) => STYLE.test(c))) uses.push({ code, kind: undefined, where: at(n) });
      }
      if (ts.isObjectLiteralExpression(n)) {
        const prop = (key: string): ts.Expression | undefined =>
          n.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && p.name.getText(sf) === key)?.initializer;
        const kind = kindOf(prop('kind'));
        if (kind !== undefined) for (const code of literals(prop('code'))) uses.push({ code, kind, where: at(n) });
      }
      if (ts.isThrowStatement(n) && ts.isNewExpression(n.expression) && n.expression.expression.getText(sf) === 'Error') {
        const lineStart = text.lastIndexOf('\n', n.getStart(sf)) + 1;
        const before = text.slice(text.lastIndexOf('\n', Math.max(0, lineStart - 2)) + 1, n.getStart(sf));
        if (!/\/\/ assertion:/.test(before)) unmarkedThrows.push(at(n));
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return { uses, templates, unmarkedThrows };
}

const { uses, templates, unmarkedThrows } = scan();

/** Codes that src/ and test/ test errors for: `isBerthError(err, 'code')`, `err.code === 'code'`, `assert.equal(err.code, 'code')`. */
function compared(): { code: string; where: string }[] {
  const out: { code: string; where: string }[] = [];
  for (const dir of [SRC, join(SRC, '..', 'test')]) {
    for (const file of sourceFiles(dir)) {
      if (file.includes(`${join('test', 'unit', 'error-codes.test.ts')}`)) continue;
      const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const at = (n: ts.Node): string => `${relative(join(SRC, '..'), file)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
      const visit = (n: ts.Node): void => {
        if (ts.isCallExpression(n) && n.expression.getText(sf) === 'isBerthError') for (const code of literals(n.arguments[1])) out.push({ code, where: at(n) });
        // assert.equal(err.code, 'code')
        if (ts.isCallExpression(n) && /^assert\.(strictEqual|equal)$/.test(n.expression.getText(sf)) && /\.code$/.test(n.arguments[0]?.getText(sf) ?? '')) {
          for (const code of literals(n.arguments[1]).filter((c) => /^[a-z]/.test(c))) out.push({ code, where: at(n) });
        }
        if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsEqualsEqualsToken && !ts.isTypeOfExpression(n.left) && /\bcode$/.test(n.left.getText(sf))) {
          for (const code of literals(n.right).filter((c) => /^[a-z]/.test(c))) out.push({ code, where: at(n) });
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
  }
  return out;
}
const catalogue: Record<string, ErrorKind> = ERROR_CODES;

test('the scan finds the codes src/ makes errors with', () => {
  // A scanner that finds nothing would pass every test below.
  assert.ok(uses.length > 250, `${uses.length} uses found`);
  assert.ok(uses.some((u) => u.code === 'container_not_found' && u.kind === ErrorKind.NotFound));
  assert.ok(uses.some((u) => u.code === 'cgroup_io_denied' && u.kind === ErrorKind.PermissionDenied));
  assert.ok(uses.some((u) => u.code === 'repository_not_found'), 'both arms of a ternary');
});

test('every code used is in the catalogue', () => {
  const missing = uses.filter((u) => !Object.hasOwn(catalogue, u.code)).map((u) => `${u.code} (${u.where})`);
  assert.deepEqual(missing, []);
});

test('every code is used with the kind the catalogue gives it', () => {
  const wrong = uses
    .filter((u) => u.kind !== undefined && Object.hasOwn(catalogue, u.code) && catalogue[u.code] !== u.kind)
    .map((u) => `${u.code}: ${u.kind} at ${u.where}, catalogued ${catalogue[u.code]}`);
  assert.deepEqual(wrong, []);
});

test('every catalogued code is used', () => {
  const used = new Set(uses.map((u) => u.code));
  assert.deepEqual(Object.keys(catalogue).filter((c) => !used.has(c)), []);
});

test('codes are snake_case, kinds are known', () => {
  const kinds = new Set<string>(Object.values(ErrorKind));
  assert.deepEqual(Object.keys(catalogue).filter((c) => !STYLE.test(c)), []);
  assert.deepEqual(Object.entries(catalogue).filter(([, k]) => !kinds.has(k)), []);
  assert.deepEqual(uses.filter((u) => !STYLE.test(u.code)).map((u) => `${u.code} (${u.where})`), []);
});

test('no code is built from a template (it could not be catalogued)', () => {
  assert.deepEqual(templates, []);
});

test('a plain Error is thrown only as a marked assertion', () => {
  assert.deepEqual(unmarkedThrows, []);
});

test('every code an error is tested for, in src/ and test/, is in the catalogue (a renamed code leaves no stale test)', () => {
  const found = compared();
  assert.ok(found.some((c) => c.code === 'container_not_found'), 'the scan finds isBerthError calls');
  assert.deepEqual(found.filter((c) => !Object.hasOwn(catalogue, c.code)).map((c) => `${c.code} (${c.where})`), []);
});
