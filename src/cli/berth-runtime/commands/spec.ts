import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { alreadyExists, errnoCode } from '../../../errors.ts';
import { defaultSpec, toRootless } from '../../../oci/default-spec.ts';
import { rootlessMappings, subIds } from '../../../runtime/subids.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: [],
  flags: [
    { name: 'bundle', short: 'b', type: 'string', value: 'DIR', help: 'bundle directory (default: the current directory)' },
    { name: 'rootless', type: 'bool', help: 'a spec an unprivileged user can run' },
  ],
  async run(ctx, input) {
    let spec = defaultSpec();
    if (input.bool('rootless')) {
      const uid = process.geteuid?.() ?? 0;
      const gid = process.getegid?.() ?? 0;
      spec = toRootless(spec, uid, gid);
      // With subordinate ids the container gets a full range (mapped by newuidmap/newgidmap).
      const user = userInfo().username;
      spec.linux!.uidMappings = rootlessMappings(uid, subIds('/etc/subuid', user, uid));
      spec.linux!.gidMappings = rootlessMappings(gid, subIds('/etc/subgid', user, uid));
    }
    const file = join(ctx.path(input.str('bundle') ?? '.'), 'config.json');
    try {
      await writeFile(file, `${JSON.stringify(spec, null, '\t')}\n`, { flag: 'wx' });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw alreadyExists('config_exists', `spec: ${file} exists: remove it first`);
      throw err;
    }
    return 0;
  },
});
