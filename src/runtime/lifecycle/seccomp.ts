/** The seccomp compiler, loaded only for containers that ask for a filter. */
import type { LinuxSeccomp } from '../../oci/runtime-spec.ts';
import type { SeccompProgram } from '../plan/create-plan.ts';

export async function compileSeccompFor(profile: LinuxSeccomp): Promise<SeccompProgram> {
  const { compileSeccomp } = await import('../seccomp/index.ts');
  return compileSeccomp(profile);
}
