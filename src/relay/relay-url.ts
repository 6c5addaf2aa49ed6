// The session daemon's side of a relay address: `create -U URL` / `-C URL -D URL` parsed and refused as LTTng
// 2.13 parses them (lttng-tools src/common/uri.c: uri_parse, uri_parse_str_urls), and the text `list` shows
// (uri_to_str_url as build_network_session_path prints it: "tcp4://IP:CTRL/SUBDIR [data: DATA]").
//
// Contract: parseOutputUrls() returns a local path, a network target or throws an LttError (code RELAY_URL)
// whose message is the first error line lttng prints for that input. Host names are resolved here, as the
// lttng client does (the daemon gets addresses). DEFAULT ports: 5342 (control), 5343 (data).

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { LttError } from '../errors.js';
import type { RelayTarget } from '../control/messages.js';

export const DEFAULT_CONTROL_PORT = 5342;
export const DEFAULT_DATA_PORT = 5343;

export type { RelayTarget };

interface ParsedUri {
  readonly kind: 'file' | 'net' | 'tcp';
  readonly family: 4 | 6;
  readonly path?: string;
  readonly host?: string;
  readonly ctrlPort: number;
  readonly dataPort: number;
  readonly subdir: string;
}

const PROTOCOLS: ReadonlyArray<readonly [string, ParsedUri['kind'], 4 | 6]> = [
  ['file://', 'file', 4],
  ['net://', 'net', 4],
  ['net4://', 'net', 4],
  ['net6://', 'net', 6],
  ['tcp://', 'tcp', 4],
  ['tcp4://', 'tcp', 4],
  ['tcp6://', 'tcp', 6],
];

function refuse(message: string): never {
  throw new LttError('RELAY_URL', message);
}

/** C's atoi: optional blanks and sign, then digits; 0 when none. */
function atoi(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text);
  return m === null ? 0 : Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Number(m[1])));
}

/** The index of the first of ':' or '/' in `s` from `at`, or its end. */
function nextSeparator(s: string, at: number): number {
  for (let i = at; i < s.length; i++) if (s[i] === ':' || s[i] === '/') return i;
  return s.length;
}

/** uri_parse(): the host resolved to an address of the URL's family. */
async function parseUri(url: string): Promise<ParsedUri> {
  const proto = PROTOCOLS.find(([lead]) => url.slice(0, lead.length).toLowerCase() === lead);
  if (proto === undefined) refuse(`URI parse unknown protocol ${url}`);
  const [lead, kind, family] = proto;
  let at = lead.length;
  if (kind === 'file') {
    if (url[at] !== '/') refuse('Missing destination full path.');
    return { kind, family, path: url.slice(at), ctrlPort: 0, dataPort: 0, subdir: '' };
  }
  let host: string;
  if (url[at] === '[') {
    const close = url.indexOf(']', at + 1);
    if (close < 0 || close === at + 1) refuse(`Broken IPv6 address ${url.slice(at + 1)}`);
    host = url.slice(at + 1, close);
    at = close + 1;
    if (at < url.length && url[at] !== ':' && url[at] !== '/') refuse(`Unknown symbol after IPv6 address: ${url.slice(at)}`);
  } else {
    const end = nextSeparator(url, at);
    host = url.slice(at, end);
    at = end;
  }
  if (host === '') refuse('No address or hostname detected.');
  const ports = [0, 0];
  for (let i = 1; url[at] === ':'; i++) {
    if ((i === 2 && kind !== 'net') || i > 2) break;
    const end = nextSeparator(url, at + 1);
    if (end > at + 1) {
      const port = atoi(url.slice(at + 1, end));
      if (port > 0xffff || port <= 0) refuse(`Invalid port number ${port}`);
      ports[i - 1] = port;
    }
    at = end;
  }
  let subdir = '';
  if (url[at] === '/') subdir = url.slice(at + 1);
  else if (at < url.length) refuse(`Trailing characters not recognized: ${url.slice(at)}`);
  return { kind, family, host: await resolveHost(host, family), ctrlPort: ports[0]!, dataPort: ports[1]!, subdir };
}

/** set_ip_address(): an address of the URL's family, or the first the resolver gives for a host name. */
async function resolveHost(host: string, family: 4 | 6): Promise<string> {
  if (isIP(host) === family) return host;
  if (isIP(host) === 0) {
    try {
      return (await lookup(host, { family })).address;
    } catch {
      if (host === 'localhost') return family === 4 ? '127.0.0.1' : '::1';
    }
  }
  refuse(`URI parse bad hostname ${host} for af ${family === 4 ? 2 : 10}`);
}

/**
 * `-U URL` (ctrl only) or `-C CTRL -D DATA`, as uri_parse_str_urls() then lttng create take them: a local path
 * (file:// or an absolute path) or a relay target. `-U` accepts only file:// and net[4|6]://.
 */
export async function parseOutputUrls(ctrlUrl: string, dataUrl?: string): Promise<{ path: string } | { relay: RelayTarget }> {
  const equal = dataUrl === undefined || dataUrl === '' || ctrlUrl === dataUrl;
  const ctrl = await parseUri(ctrlUrl.startsWith('/') ? `file://${ctrlUrl}` : ctrlUrl);
  if (ctrl.kind === 'file') {
    if (dataUrl) refuse('Cannot have a data URL when destination is file://');
    return { path: ctrl.path! };
  }
  let dataPort: number;
  if (ctrl.kind === 'net') {
    if (!equal) refuse('Control URL uses the net:// protocol and the data URL is different. Not allowed.');
    dataPort = ctrl.dataPort || DEFAULT_DATA_PORT;
  } else {
    // tcp:// names one port: it needs its data URL (with -U it is "not a URL lttng knows" for an output).
    if (!dataUrl) refuse('Unrecognized URL format.');
    const data = await parseUri(dataUrl);
    if (data.kind === 'net') refuse('Data URL can not be set with the net[4|6]:// protocol');
    if (data.kind === 'file' || data.host !== ctrl.host || data.family !== ctrl.family) refuse('Control and data destination mismatch');
    dataPort = data.ctrlPort || DEFAULT_DATA_PORT;
  }
  return {
    relay: {
      family: ctrl.family,
      host: ctrl.host!,
      controlPort: ctrl.ctrlPort || DEFAULT_CONTROL_PORT,
      dataPort,
      subdir: ctrl.subdir,
    },
  };
}

/** The session's output as lttng lists it: tcp4://127.0.0.1:5342/SUBDIR [data: 5343]. */
export function relayOutputText(t: RelayTarget): string {
  const host = t.family === 6 ? `[${t.host}]` : t.host;
  return `tcp${t.family}://${host}:${t.controlPort}/${t.subdir} [data: ${t.dataPort}]`;
}

/** The control and data URIs lttng saves for a network output (save.c: uri_to_str_url of each). */
export function relayUris(t: RelayTarget): { control: string; data: string } {
  const host = t.family === 6 ? `[${t.host}]` : t.host;
  return { control: `tcp${t.family}://${host}:${t.controlPort}/${t.subdir}`, data: `tcp${t.family}://${host}:${t.dataPort}/` };
}

/** LTTng's default live destination (net://127.0.0.1). */
export const DEFAULT_LIVE_TARGET: RelayTarget = { family: 4, host: '127.0.0.1', controlPort: DEFAULT_CONTROL_PORT, dataPort: DEFAULT_DATA_PORT, subdir: '' };
