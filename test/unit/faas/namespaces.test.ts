/** A function's key (src/faas/namespaces.ts): NAME in the default namespace, NAME.NAMESPACE in another, and back. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { functionKey, invokedKey, splitFunctionKey } from '../../../src/faas/namespaces.ts';

test('keys: the name alone in openfaas-fn, NAME.NAMESPACE elsewhere, split back the same way', () => {
  assert.equal(functionKey('openfaas-fn', 'echo'), 'echo');
  assert.equal(functionKey('prod', 'echo'), 'echo.prod');
  assert.deepEqual(splitFunctionKey('echo'), { namespace: 'openfaas-fn', name: 'echo' });
  assert.deepEqual(splitFunctionKey('echo.prod'), { namespace: 'prod', name: 'echo' });
});

test('/function/NAME.NAMESPACE: the default namespace named is the plain name; a bad namespace is refused naming it', () => {
  assert.equal(invokedKey('echo'), 'echo');
  assert.equal(invokedKey('echo.openfaas-fn'), 'echo');
  assert.equal(invokedKey('echo.prod'), 'echo.prod');
  assert.equal(invokedKey('echo.'), 'echo', 'an empty namespace is the default');
  for (const bad of ['echo.Prod', 'echo.a.b', 'echo.-x']) {
    assert.throws(() => invokedKey(bad), (err) => isBerthError(err, 'faas_deployment_invalid') && err.message.includes('namespace (path):'), bad);
  }
});
