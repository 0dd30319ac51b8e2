/**
 * A stack function as the FunctionDeployment body faas-cli sends to
 * `POST`/`PUT /system/functions` (faas-provider's types, empty fields
 * omitted), with the command line's --env, --label, --annotation and
 * --secret over the file's (the command line wins, as in faas-cli).
 */
import type { StackFunction, StackResources } from './parse.ts';

export interface FunctionDeploymentBody {
  service: string;
  image: string;
  namespace?: string;
  envProcess?: string;
  envVars?: Record<string, string>;
  constraints?: string[];
  secrets?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  limits?: StackResources;
  requests?: StackResources;
  readOnlyRootFilesystem?: boolean;
}

export interface DeployOverrides {
  env?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  secrets?: readonly string[];
  namespace?: string;
  readOnly?: boolean;
}

const nonEmpty = <T extends object>(o: T): T | undefined => (Object.keys(o).length > 0 ? o : undefined);

export function deploymentBody(fn: StackFunction, o: DeployOverrides = {}): FunctionDeploymentBody {
  const envVars = nonEmpty({ ...fn.environment, ...o.env });
  const labels = nonEmpty({ ...fn.labels, ...o.labels });
  const annotations = nonEmpty({ ...fn.annotations, ...o.annotations });
  const secrets = [...new Set([...(o.secrets ?? []), ...fn.secrets])];
  const namespace = o.namespace ?? fn.namespace;
  const readOnly = o.readOnly === true || fn.readOnlyRootFilesystem;
  return {
    service: fn.name,
    image: fn.image,
    ...(namespace === undefined ? {} : { namespace }),
    ...(fn.fprocess === undefined ? {} : { envProcess: fn.fprocess }),
    ...(envVars === undefined ? {} : { envVars }),
    ...(fn.constraints === undefined || fn.constraints.length === 0 ? {} : { constraints: fn.constraints }),
    ...(secrets.length === 0 ? {} : { secrets }),
    ...(labels === undefined ? {} : { labels }),
    ...(annotations === undefined ? {} : { annotations }),
    ...(fn.limits === undefined ? {} : { limits: fn.limits }),
    ...(fn.requests === undefined ? {} : { requests: fn.requests }),
    ...(readOnly ? { readOnlyRootFilesystem: true } : {}),
  };
}
