/**
 * The wire contract between TypeScript and the native executor, in one
 * place. `scripts/gen-plan-header.ts` turns this file into
 * `native/common/plan.gen.h`; a unit test fails when the header is stale. Nothing
 * here may be typed twice by hand.
 *
 * A plan is a header followed by operations, little-endian:
 *
 *   plan   := magic:u32 version:u32 count:u32 op*
 *   op     := code:u16 flags:u16 argc:u16 pad:u16 arg*
 *   arg    := kind:u8 pad:u8[3] body
 *   body   := int:   value:i64
 *           | str:   len:u32 bytes[len] NUL           (also used for raw bytes)
 *           | strv:  count:u32 (len:u32 bytes[len] NUL)*
 *           | intv:  count:u32 value:i64*
 *
 * The plan itself is in a file whose fd the executor gets as its second
 * argument (`berth-exec SYNC_FD PLAN_FD`), so it can start at once.
 *
 * Messages on the sync socket (both directions):
 *
 *   msg    := type:u32 len:u32 payload[len]
 */

export const PLAN_MAGIC = 0x48545242; // "BRTH"
export const PLAN_VERSION = 1;
/** Upper bound the executor accepts for a plan, and for one message. */
export const PLAN_MAX_BYTES = 16 * 1024 * 1024;

export const ArgKind = {
  int: 1,
  str: 2,
  strv: 3,
  intv: 4,
} as const;
export type ArgKindName = keyof typeof ArgKind;

/** Per-operation flags in the op header. */
export const OpFlag = {
  /** A missing path is not an error (masked paths, optional devices). */
  IGNORE_ENOENT: 1,
  /** An existing target is not an error (symlinks the image already has). */
  IGNORE_EEXIST: 2,
  /** `mount`: refuse a target that resolves onto a proc file system (CVE-2019-16884). */
  NOT_ON_PROC: 4,
  /** `mount`: refuse a target reached through a symlink (proc and sysfs go on ordinary directories). */
  NO_SYMLINKS: 8,
  /** `mount`: copy what the target directory held into the new mount (tmpcopyup). */
  COPY_UP: 16,
} as const;

/**
 * Operations. Arguments are listed in wire order. Paths named `target` are
 * resolved inside the container's root (openat2 RESOLVE_IN_ROOT) unless the
 * operation says otherwise.
 */
export const OPS = {
  /** Create a FIFO at an absolute host path. */
  mkfifo: { code: 1, args: { path: 'str', mode: 'int' } },
  /** Join the namespace at `path` (nstype: CLONE_NEW* or 0). */
  setns: { code: 2, args: { path: 'str', nstype: 'int' } },
  /**
   * Fork the container process (glibc's fork, so the child's libc state is
   * sound; namespaces come from `unshare` and `setns` before it). The
   * executor reports the child's pid; with `wait` it stays, waits for the
   * child and exits with its status (proxying a terminal when
   * `console_proxy`), otherwise it exits at once.
   */
  fork: { code: 3, args: { wait: 'int', console_proxy: 'int' } },
  /** unshare(2): new namespaces (the cgroup namespace only after joining the cgroup). */
  unshare: { code: 4, args: { flags: 'int' } },
  /** Tell TypeScript `tag` and wait for its answer (kept as hook input). */
  sync: { code: 5, args: { tag: 'str' } },
  setsid: { code: 6, args: {} },
  sethostname: { code: 7, args: { name: 'str' } },
  setdomainname: { code: 8, args: { name: 'str' } },
  /** mount(NULL, path, NULL, flags, NULL) on an absolute path: propagation of "/". */
  propagate_abs: { code: 9, args: { path: 'str', flags: 'int' } },
  /** Bind the rootfs onto itself and keep an O_PATH fd of it as the root. */
  open_root: { code: 10, args: { path: 'str' } },
  /**
   * mount(source, target, fstype, flags, data) with the target resolved in
   * the root and created when missing (kind: 0 directory, 1 file; -1 never).
   * The source is a host path, or resolved in the root when `source_in_root`.
   */
  mount: {
    code: 11,
    args: { source: 'str', target: 'str', fstype: 'str', flags: 'int', data: 'str', kind: 'int', source_in_root: 'int' },
  },
  /** Remount a bind mount with `flags`, keeping the flags the kernel locks. */
  remount_bind: { code: 12, args: { target: 'str', flags: 'int' } },
  /** Set propagation (MS_SHARED, MS_SLAVE, ... with MS_REC) of a mount in the root. */
  propagate: { code: 13, args: { target: 'str', flags: 'int' } },
  /** mknod(2) of `name` in the directory `dir` of the root (created when missing), then chown and chmod (past the umask). */
  mknod: { code: 14, args: { dir: 'str', name: 'str', mode: 'int', dev: 'int', uid: 'int', gid: 'int' } },
  /** A symlink `name` -> `link_target` in the directory `dir` of the root (created when missing). */
  symlink: { code: 15, args: { dir: 'str', name: 'str', link_target: 'str' } },
  /**
   * Run a hook: fork, exec path with argv/envv, stdin from string `input` of
   * the last sync answer (a list of NUL-terminated strings), kill it after
   * the timeout; its output is kept for the error report.
   */
  run_hook: { code: 17, args: { path: 'str', argv: 'strv', envv: 'strv', timeout_ms: 'int', input: 'int' } },
  /** Keep an O_PATH fd of the state directory so the exec FIFO can be opened after pivot_root. */
  open_state_dir: { code: 18, args: { path: 'str' } },
  /** Connect to the console socket (a host path) before the root changes. */
  console_connect: { code: 19, args: { path: 'str' } },
  pivot_root: { code: 20, args: {} },
  /** --no-pivot: move the root mount over "/" and chroot into it. */
  move_root: { code: 21, args: {} },
  /** Mask a path (after the root changed): /dev/null over files, a read-only tmpfs over directories. */
  mask_path: { code: 22, args: { path: 'str' } },
  /** Remount "/" read-only, keeping the flags the kernel locks. */
  remount_root_ro: { code: 24, args: {} },
  /** Write data to a file; resolve: openat2 RESOLVE_* flags for the path. */
  write_file: { code: 25, args: { path: 'str', data: 'str', resolve: 'int' } },
  /**
   * Create a pseudo-terminal from /dev/ptmx of the container, size it, send
   * the master (to the console socket, or to the waiting executor when
   * proxying), make the slave the controlling terminal and stdio, and bind it
   * over `console_path` when not empty.
   */
  setup_console: { code: 26, args: { uid: 'int', gid: 'int', rows: 'int', cols: 'int', console_path: 'str' } },
  setrlimit: { code: 27, args: { resource: 'int', soft: 'int', hard: 'int' } },
  chdir: { code: 28, args: { path: 'str' } },
  umask: { code: 29, args: { mask: 'int' } },
  /** setgroups, setresgid, setresuid, keeping capabilities across the change. */
  set_user: { code: 30, args: { uid: 'int', gid: 'int', groups: 'intv' } },
  /** Drop the bounding set to `bounding`, then capset and raise ambient (bit masks). */
  caps: { code: 31, args: { bounding: 'int', effective: 'int', permitted: 'int', inheritable: 'int', ambient: 'int' } },
  no_new_privs: { code: 32, args: {} },
  /** Load a seccomp program (struct sock_filter[]); NEW_LISTENER fds go to listener_path. */
  seccomp: { code: 33, args: { program: 'str', flags: 'int', listener_path: 'str', listener_state: 'str' } },
  /** Mark every fd from `first` upwards close-on-exec (keeps stdio and preserved fds). */
  close_fds: { code: 34, args: { first: 'int' } },
  /**
   * Find the program now, so a typo fails create: the first executable of
   * `candidates` (the program itself when it names a path, else each entry
   * of the container's PATH with it).
   */
  resolve_exec: { code: 35, args: { file: 'str', candidates: 'strv' } },
  /** Report that the container is set up; TypeScript may go away after this. */
  ready: { code: 36, args: {} },
  /** Block until `start` opens the exec FIFO in the state directory. */
  wait_start: { code: 37, args: { fifo: 'str' } },
  exec: { code: 38, args: { argv: 'strv', envv: 'strv' } },
  /** Reset signal dispositions and the signal mask before exec. */
  reset_signals: { code: 39, args: {} },
  /** Mark this process non-dumpable (others in the container cannot open /proc/PID/exe). */
  set_dumpable: { code: 41, args: { value: 'int' } },
  /** Connect to the seccomp listener (a host path) before the root changes; `seccomp` sends to it. */
  listener_connect: { code: 42, args: { path: 'str' } },
  /** Bring the loopback interface of a new network namespace up (as runc does). */
  loopback_up: { code: 43, args: {} },
  /** Create a directory (and its parents) inside the root when missing: the working directory. */
  ensure_dir: { code: 44, args: { path: 'str' } },
  /**
   * chroot(2) into `path` (a host path) and chdir "/": the root of a process
   * without a mount namespace of its own, where nothing may be mounted.
   */
  chroot: { code: 46, args: { path: 'str' } },
  /**
   * Load a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn[], from
   * the cgroup library's device filter compiler) and attach it to the cgroup2
   * directory `cgroup` (a host path) with BPF_F_ALLOW_MULTI, replacing the
   * device programs attached there before (as runc does). A verifier
   * rejection reports the verifier's log.
   */
  bpf_device: { code: 60, args: { cgroup: 'str', program: 'str', license: 'str' } },
} as const satisfies Record<string, { code: number; args: Record<string, ArgKindName> }>;

export type OpName = keyof typeof OPS;

/**
 * Message types on the sync socket, and on the socket between berth-runtime's
 * front (native/front, the process the caller started) and the command
 * line it runs: there the executor's own messages are relayed as they are,
 * between FRONT_STARTED and FRONT_SESSION_END.
 */
export const Msg = {
  /** executor → TS: the container process's pid (payload: i32). */
  PID: 1,
  /** executor → TS: a `sync` op reached (payload: tag). */
  SYNC: 2,
  /** executor → TS: set-up done (no payload). */
  READY: 3,
  /** executor → TS: a step failed (payload: step:u32 errno:i32 detail). */
  ERROR: 4,
  /** TS → executor: go on (payload: NUL-terminated strings kept as hook input). */
  CONTINUE: 16,
  /** TS → executor: give up (the container process exits). */
  ABORT: 17,
  /** TS → front: fork an executor on this plan (payload: the encoded plan). */
  FRONT_PLAN: 32,
  /** front → TS: the executor forked (payload: its pid as i32, or -errno); its messages follow. */
  FRONT_STARTED: 33,
  /** front → TS: every holder of that executor's sync socket let go of it (no payload). */
  FRONT_SESSION_END: 34,
  /** front → TS: an executor exited (payload: pid:i32, wait status:i32). */
  FRONT_EXIT: 35,
  /** TS → front: take flock(2) on this lock file without waiting, and hold it (payload: the path). */
  FRONT_LOCK: 36,
  /** front → TS: the answer to FRONT_LOCK (payload, as i32: the lock's descriptor when held, else -errno). */
  FRONT_LOCKED: 37,
  /** TS → front: let go of a lock (payload: its descriptor, as i32). */
  FRONT_UNLOCK: 38,
  /** TS → front: the command line is exiting; stop talking to it (payload: its exit code as i32, then the front exits with it). */
  FRONT_BYE: 39,
  /** TS → front: no cgroup will be joined any more; stop keeping the join fast (no payload). */
  FRONT_WARM_STOP: 40,
  /**
   * front → resident command line (src/cli/berth-runtime/resident.ts): serve this command
   * (payload: version:u32 argc:u32 envc:u32, then NUL-terminated: the cwd, the arguments, the environment).
   */
  FRONT_HELLO: 41,
  /** resident → front: it will serve the command once told to go (no payload). */
  FRONT_ACCEPT: 42,
  /** resident → front: start the command line yourself (payload: why, for BERTH_TRACE). */
  FRONT_FALLBACK: 43,
  /** front → resident: go on with the command (no payload); the front waits for FRONT_BYE from here. */
  FRONT_GO: 44,
  /** resident → front: write these bytes to the front's own descriptor (payload: fd:u32 (1 or 2), bytes). */
  FRONT_OUTPUT: 45,
  /** front → resident: the front got this signal, for the command (payload: signal number as u32). */
  FRONT_SIGNAL: 46,
} as const;

/** Exit status of the executor when it fails before or outside the plan. */
export const EXEC_FAILURE_STATUS = 125;
