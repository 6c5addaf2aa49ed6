// The two local-time stamps LTTng puts in trace folder names and metadata, in one place: YYYYmmdd-HHMMSS
// (session, per-PID and snapshot folders) and ISO 8601 basic with the UTC offset, YYYYmmddTHHMMSS+HHMM
// (trace_creation_datetime, vpid_datetime, trace chunk folders).

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** YYYYmmdd-HHMMSS in local time. */
export function folderDateTime(d: Date): string {
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

/** YYYYmmddTHHMMSS+HHMM: ISO 8601 basic, local time with its UTC offset. */
export function isoBasicDateTime(d: Date): string {
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return `${folderDateTime(d).replace('-', 'T')}${off >= 0 ? '+' : '-'}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}
