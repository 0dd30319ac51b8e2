/**
 * A container's states and the moves between them, as data: the store
 * refuses any move not listed here, so a stop racing a removal, or a start
 * of a container being removed, fails loudly instead of writing a state
 * that lies.
 *
 *   creating ─► created ─► running ⇄ paused
 *                  │          │        │
 *                  ▼          ▼        ▼
 *               exited ◄──────┴────────┘     (exited ─► running: start, restart)
 *   created, exited, dead ─► removing ─► (deleted)
 *   running, paused, removing ─► dead        (the engine lost it, or removal failed)
 *
 * `creating` is the half-made marker: written before any resource exists,
 * left only by `created` or by deleting the record.
 */

export const CONTAINER_STATES = ['creating', 'created', 'running', 'paused', 'exited', 'dead', 'removing'] as const;
export type ContainerState = (typeof CONTAINER_STATES)[number];

const MOVES: Readonly<Record<ContainerState, readonly ContainerState[]>> = {
  creating: ['created'],
  // A start that fails before the process runs leaves the container exited with an error, as docker does.
  created: ['running', 'exited', 'removing'],
  running: ['paused', 'exited', 'dead'],
  paused: ['running', 'exited', 'dead'],
  exited: ['running', 'removing'],
  dead: ['removing'],
  removing: ['dead'],
};

export function canMove(from: ContainerState, to: ContainerState): boolean {
  return MOVES[from].includes(to);
}

/** States whose record may be deleted: being removed, or half made by a crash. */
export function canDelete(state: ContainerState): boolean {
  return state === 'removing' || state === 'creating';
}

export function isContainerState(value: unknown): value is ContainerState {
  return typeof value === 'string' && (CONTAINER_STATES as readonly string[]).includes(value);
}
