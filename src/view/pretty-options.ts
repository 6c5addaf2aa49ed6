// Options of the pretty sink (babeltrace2 sink.text.pretty parameters after the CLI's translation), with 2.0.4's
// defaults.
//
// Contract: plain data; `defaultPrettyOptions()` gives what `babeltrace2 TRACE` uses; view-args.ts applies the
// CLI's `-n`/`-f` lists with the same default/override logic as pretty.c's apply_params().

import { isatty } from 'node:tty';

export interface PrettyOptions {
  noDelta: boolean;
  clockCycles: boolean;
  clockSeconds: boolean;
  clockDate: boolean;
  clockGmt: boolean;
  verbose: boolean;
  namePayload: boolean;
  nameContext: boolean;
  nameHeader: boolean;
  nameScope: boolean;
  fieldTrace: boolean;
  fieldHostname: boolean;
  fieldDomain: boolean;
  fieldProcname: boolean;
  fieldVpid: boolean;
  fieldLoglevel: boolean;
  fieldEmf: boolean;
  fieldCallsite: boolean;
  color: 'never' | 'auto' | 'always';
  /** -w/--output: write lines to this file instead of stdout. */
  outputPath?: string;
  /**
   * Encoding of the JS strings the decoder hands over for string fields ('latin1': one code unit per byte, so
   * any byte sequence survives; 'utf8': decoded text). Output is written back with the same encoding.
   */
  stringEncoding: 'latin1' | 'utf8';
}

export function defaultPrettyOptions(): PrettyOptions {
  return {
    noDelta: false,
    clockCycles: false,
    clockSeconds: false,
    clockDate: false,
    clockGmt: false,
    verbose: false,
    namePayload: true,
    nameContext: true,
    nameHeader: false,
    nameScope: false,
    fieldTrace: false,
    fieldHostname: true,
    fieldDomain: false,
    fieldProcname: true,
    fieldVpid: true,
    fieldLoglevel: false,
    fieldEmf: false,
    fieldCallsite: false,
    color: 'auto',
    stringEncoding: 'utf8',
  };
}

/** Terminal colour support as bt_common_colors_supported() decides it. */
export function colorsSupported(env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env['BABELTRACE_TERM_COLOR'];
  if (force !== undefined) {
    if (force.toLowerCase() === 'always') return true;
    if (force.toLowerCase() === 'never') return false;
  }
  const term = env['TERM'] ?? '';
  // babeltrace compares only the first 5 letters of "screen".
  if (!/^(xterm|rxvt|konsole|gnome|scree|tmux|putty)/.test(term)) return false;
  // isatty() rather than process.stdout.isTTY: touching process.stdout would make fd 1 non-blocking.
  return isatty(1) && isatty(2);
}

export interface ColorCodes {
  readonly reset: string;
  readonly bold: string;
  readonly fgYellow: string;
  readonly fgCyan: string;
  readonly fgBrightRed: string;
  readonly fgBrightYellow: string;
  readonly fgBrightMagenta: string;
}

/**
 * babeltrace2's colour codes (common.c): all empty unless colorsSupported(); "bright" colours are bold + normal
 * colour unless TERM is xterm-kitty or BABELTRACE_TERM_COLOR_BRIGHT_MEANS_BOLD=0.
 */
export function colorCodes(env: NodeJS.ProcessEnv = process.env): ColorCodes {
  if (!colorsSupported(env)) {
    return { reset: '', bold: '', fgYellow: '', fgCyan: '', fgBrightRed: '', fgBrightYellow: '', fgBrightMagenta: '' };
  }
  let brightMeansBold = env['TERM'] !== 'xterm-kitty';
  const v = env['BABELTRACE_TERM_COLOR_BRIGHT_MEANS_BOLD'];
  if (v !== undefined) brightMeansBold = v !== '0';
  const bright = (n: number): string => (brightMeansBold ? `\x1b[1m\x1b[${n}m` : `\x1b[${n + 60}m`);
  return {
    reset: '\x1b[0m',
    bold: '\x1b[1m',
    fgYellow: '\x1b[33m',
    fgCyan: '\x1b[36m',
    fgBrightRed: bright(31),
    fgBrightYellow: bright(33),
    fgBrightMagenta: bright(35),
  };
}
