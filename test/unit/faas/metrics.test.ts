import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry } from '../../../src/api/metrics.ts';
import { GatewayMetrics } from '../../../src/faas/metrics.ts';

test("the gateway's metrics in Prometheus' text format: counter, histogram, replicas", () => {
  const registry = new MetricsRegistry();
  const m = new GatewayMetrics('openfaas-fn', registry, () => [['echo', 2]]);
  m.invoked('echo', 200, 0.003);
  m.invoked('echo', 200, 0.2);
  m.invoked('echo', 502, 7);
  const text = registry.render();
  assert.match(text, /^# TYPE gateway_function_invocation_total counter$/m);
  assert.match(text, /^gateway_function_invocation_total\{function_name="echo.openfaas-fn",code="200"\} 2$/m);
  assert.match(text, /^gateway_function_invocation_total\{function_name="echo.openfaas-fn",code="502"\} 1$/m);
  assert.match(text, /^# TYPE gateway_functions_seconds histogram$/m);
  assert.match(text, /^gateway_functions_seconds_bucket\{function_name="echo.openfaas-fn",code="200",le="0.005"\} 1$/m);
  assert.match(text, /^gateway_functions_seconds_bucket\{function_name="echo.openfaas-fn",code="200",le="0.25"\} 2$/m);
  assert.match(text, /^gateway_functions_seconds_bucket\{function_name="echo.openfaas-fn",code="502",le="5"\} 0$/m);
  assert.match(text, /^gateway_functions_seconds_bucket\{function_name="echo.openfaas-fn",code="502",le="\+Inf"\} 1$/m);
  assert.match(text, /^gateway_functions_seconds_sum\{function_name="echo.openfaas-fn",code="200"\} 0.203$/m);
  assert.match(text, /^gateway_functions_seconds_count\{function_name="echo.openfaas-fn",code="200"\} 2$/m);
  assert.match(text, /^gateway_service_count\{function_name="echo.openfaas-fn"\} 2$/m);
  assert.equal(m.invocationCount('echo'), 3);
});
