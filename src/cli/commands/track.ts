// `ltt track`: add values to process-attribute inclusion sets (see tracker-command.ts).

import { trackerCommand } from './tracker-command.js';

export const trackCommand = trackerCommand('track');
