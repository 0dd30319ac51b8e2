/**
 * `${VAR}` substitution over a stack file's text before it is parsed, as
 * faas-cli does it (drone/envsubst over the whole file): `$VAR`,
 * `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
 * and `${VAR:=default}` / `${VAR=default}` (the same, without assigning).
 * An undefined variable becomes the empty string; `$$` is a literal `$`.
 * Anything else inside `${...}` is refused naming the line, rather than
 * passed through half understood.
 */
import { invalidArgument } from '../../errors.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

export function substituteEnvironment(text: string, env: NodeJS.ProcessEnv, file: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) break;
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next === '{') {
      const close = text.indexOf('}', dollar + 2);
      const line = text.slice(0, dollar).split('\n').length;
      if (close < 0) throw invalidArgument('fn_stack_invalid', `${file}: line ${line}: "\${" without a closing "}"`);
      out += expand(text.slice(dollar + 2, close), env, `${file}: line ${line}`);
      i = close + 1;
      continue;
    }
    const m = NAME.exec(text.slice(dollar + 1));
    if (m === null) {
      out += '$';
      i = dollar + 1;
      continue;
    }
    out += env[m[0]] ?? '';
    i = dollar + 1 + m[0].length;
  }
  return out + text.slice(i);
}

function expand(inner: string, env: NodeJS.ProcessEnv, where: string): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])(.*))?$/s.exec(inner);
  if (m === null) throw invalidArgument('fn_stack_invalid', `${where}: "\${${inner}}" is not a substitution berth knows (\${VAR}, \${VAR:-default}, \${VAR-default})`);
  const value = env[m[1] ?? ''];
  const op = m[2];
  if (op === undefined) return value ?? '';
  const fallback = m[3] ?? '';
  // ":-" and ":=" also replace an empty value; "-" and "=" only an unset one.
  if (op.startsWith(':')) return value === undefined || value === '' ? fallback : value;
  return value ?? fallback;
}
