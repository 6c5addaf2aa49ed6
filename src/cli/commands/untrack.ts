// `ltt untrack`: remove values from process-attribute inclusion sets (see tracker-command.ts).

import { trackerCommand } from './tracker-command.js';

export const untrackCommand = trackerCommand('untrack');
