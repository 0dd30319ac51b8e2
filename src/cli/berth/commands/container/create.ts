/** `berth create`: the container made, not started; prints its ID (see run.ts). */
import { createCommand } from './run.ts';

export default createCommand;
