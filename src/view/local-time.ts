// Calendar conversions the way babeltrace2 does them with libc: localtime_r()/gmtime_r() of a time_t for printing
// timestamps, mktime()/timegm() for the trimmer's `YYYY-MM-DD HH:MM:SS` bounds. The local zone is the process's TZ,
// which Node's Date honours (IANA names and simple POSIX forms such as EST5 or JST-9).
//
// POSIX TZ strings with DST rules or quoted names (`CET-1CEST,M3.5.0,M10.5.0/3`, `<+0530>-5:30`), which Node's
// ICU does not understand, are evaluated here the way glibc does.
//
// Contract: `makeCalendar(gmt)` returns a converter with a small cache (offsets are looked up once per
// 15-minute bucket, which holds as long as a zone changes offset at most once in 15 minutes).

export interface BrokenDownTime {
  readonly year: number;
  readonly month: number; // 1..12
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const BUCKET = 900;

interface PosixRule {
  readonly kind: 'J' | 'n' | 'M';
  readonly a: number;
  readonly b: number;
  readonly c: number;
  /** Seconds after local midnight. */
  readonly time: number;
}

interface PosixTz {
  /** UTC offsets in seconds (east positive). */
  readonly std: number;
  readonly dst?: number;
  readonly start?: PosixRule;
  readonly end?: PosixRule;
}

/** Parses a POSIX TZ string (glibc's tzset syntax); undefined when it is not one. */
export function parsePosixTz(tz: string): PosixTz | undefined {
  let i = 0;
  const name = (): boolean => {
    if (tz[i] === '<') {
      const j = tz.indexOf('>', i);
      if (j < 0) return false;
      i = j + 1;
      return true;
    }
    const m = /^[A-Za-z]{3,}/.exec(tz.slice(i));
    if (!m) return false;
    i += m[0].length;
    return true;
  };
  const hms = (signed: boolean): number | undefined => {
    const m = (signed ? /^([+-]?)(\d{1,3})(?::(\d{1,2})(?::(\d{1,2}))?)?/ : /^()(\d{1,3})(?::(\d{1,2})(?::(\d{1,2}))?)?/).exec(tz.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    const v = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    return m[1] === '-' ? -v : v;
  };
  const rule = (): PosixRule | undefined => {
    let m: RegExpExecArray | null;
    let r: Omit<PosixRule, 'time'>;
    if ((m = /^M(\d{1,2})\.(\d)\.(\d)/.exec(tz.slice(i)))) r = { kind: 'M', a: Number(m[1]), b: Number(m[2]), c: Number(m[3]) };
    else if ((m = /^J(\d{1,3})/.exec(tz.slice(i)))) r = { kind: 'J', a: Number(m[1]), b: 0, c: 0 };
    else if ((m = /^(\d{1,3})/.exec(tz.slice(i)))) r = { kind: 'n', a: Number(m[1]), b: 0, c: 0 };
    else return undefined;
    i += m[0].length;
    let time = 7200;
    if (tz[i] === '/') {
      i++;
      const t = hms(true);
      if (t === undefined) return undefined;
      time = t;
    }
    return { ...r, time };
  };
  if (!name()) return undefined;
  const stdWest = hms(true);
  if (stdWest === undefined) return undefined;
  if (i === tz.length) return { std: -stdWest };
  if (!name()) return undefined;
  let dstWest = stdWest - 3600;
  if (i < tz.length && tz[i] !== ',') {
    const d = hms(true);
    if (d === undefined) return undefined;
    dstWest = d;
  }
  if (i === tz.length) return undefined; // no rules: glibc uses posixrules; leave it to ICU
  if (tz[i] !== ',') return undefined;
  i++;
  const start = rule();
  if (!start || tz[i] !== ',') return undefined;
  i++;
  const end = rule();
  if (!end || i !== tz.length) return undefined;
  return { std: -stdWest, dst: -dstWest, start, end };
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Days since the epoch of a proleptic Gregorian date. */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Local seconds since the epoch (in the offset in force before the change) at which `r` happens in `year`. */
function ruleLocalSeconds(r: PosixRule, year: number): number {
  let day: number;
  if (r.kind === 'J') {
    // 1..365, February 29 never counted.
    day = daysFromCivil(year, 1, 1) + r.a - 1 + (isLeap(year) && r.a >= 60 ? 1 : 0);
  } else if (r.kind === 'n') {
    day = daysFromCivil(year, 1, 1) + r.a;
  } else {
    const first = daysFromCivil(year, r.a, 1);
    const wdayFirst = (((first + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    let d = first + ((r.c - wdayFirst + 7) % 7) + (r.b - 1) * 7;
    const monthDays = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][r.a - 1]!;
    while (d >= first + monthDays) d -= 7;
    day = d;
  }
  return day * 86400 + r.time;
}

function posixOffset(tz: PosixTz, sec: number): number {
  if (tz.dst === undefined || !tz.start || !tz.end) return tz.std;
  const year = civilFromDays(Math.floor((sec + tz.std) / 86400)).year;
  // glibc computes the rule's transitions from 1970 on only: earlier times get the offset of the epoch.
  if (year < 1970) return sec < 0 ? posixOffset(tz, 0) : tz.std;
  const start = ruleLocalSeconds(tz.start, year) - tz.std;
  const end = ruleLocalSeconds(tz.end, year) - tz.dst;
  const inDst = start < end ? sec >= start && sec < end : !(sec >= end && sec < start);
  return inDst ? tz.dst : tz.std;
}

let posixCacheKey: string | undefined;
let posixCache: PosixTz | undefined;

/** The POSIX rule of $TZ when Node cannot evaluate it itself (rules or <quoted> names). */
function posixZone(): PosixTz | undefined {
  const tz = process.env['TZ'];
  if (tz === undefined || !(tz.includes(',') || tz.includes('<'))) return undefined;
  if (tz !== posixCacheKey) {
    posixCacheKey = tz;
    posixCache = parsePosixTz(tz);
  }
  return posixCache;
}

/** UTC offset in seconds of the local zone at time_t `sec`. */
export function localOffsetSeconds(sec: number): number {
  const posix = posixZone();
  if (posix) return posixOffset(posix, sec);
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return 0;
  const asUtc = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds());
  // Date.UTC maps years 0..99 to 1900..1999; correct it for such far-past dates.
  let fixed = asUtc;
  const y = d.getFullYear();
  if (y >= 0 && y < 100) {
    const t = new Date(asUtc);
    t.setUTCFullYear(y);
    fixed = t.getTime();
  }
  return Math.round(fixed / 1000) - sec;
}

/** Civil date from days since 1970-01-01 (proleptic Gregorian), Howard Hinnant's algorithm. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { year: m <= 2 ? y + 1 : y, month: m, day: d };
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

export interface Calendar {
  /** localtime_r/gmtime_r of a time_t. */
  breakDown(sec: number): BrokenDownTime;
  /** "HH:MM:SS" of a time_t. */
  hms(sec: number): string;
  /** strftime("%Y-%m-%d ") of a time_t. */
  datePrefix(sec: number): string;
}

export function makeCalendar(gmt: boolean): Calendar {
  let cachedBucket = NaN;
  let cachedOffset = 0;
  const offsetAt = (sec: number): number => {
    if (gmt) return 0;
    const bucket = Math.floor(sec / BUCKET);
    if (bucket === cachedBucket) return cachedOffset;
    const start = bucket * BUCKET;
    const a = localOffsetSeconds(start);
    const b = localOffsetSeconds(start + BUCKET - 1);
    if (a === b) {
      cachedBucket = bucket;
      cachedOffset = a;
      return a;
    }
    return localOffsetSeconds(sec);
  };
  const breakDown = (sec: number): BrokenDownTime => {
    const local = sec + offsetAt(sec);
    const days = Math.floor(local / 86400);
    const sod = local - days * 86400;
    const { year, month, day } = civilFromDays(days);
    const hour = Math.floor(sod / 3600);
    const minute = Math.floor((sod % 3600) / 60);
    return { year, month, day, hour, minute, second: sod % 60 };
  };
  return {
    breakDown,
    hms(sec) {
      const local = sec + offsetAt(sec);
      const sod = local - Math.floor(local / 86400) * 86400;
      return pad2(Math.floor(sod / 3600)) + ':' + pad2(Math.floor((sod % 3600) / 60)) + ':' + pad2(sod % 60);
    },
    datePrefix(sec) {
      const t = breakDown(sec);
      let y = String(t.year);
      if (t.year >= 0 && t.year < 1000) y = y.padStart(4, '0');
      return y + '-' + pad2(t.month) + '-' + pad2(t.day) + ' ';
    },
  };
}

/** mktime() (tm_isdst = -1) or timegm() of broken-down fields; seconds since the epoch. */
export function toEpochSeconds(t: BrokenDownTime, gmt: boolean): number {
  if (gmt) {
    const d = new Date(0);
    d.setUTCFullYear(t.year, t.month - 1, t.day);
    d.setUTCHours(t.hour, t.minute, t.second, 0);
    return Math.floor(d.getTime() / 1000);
  }
  const d = new Date(0);
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  d.setUTCHours(t.hour, t.minute, t.second, 0);
  const asUtc = Math.floor(d.getTime() / 1000);
  // mktime(): the instant whose local time is these fields (the first candidate when ambiguous).
  const o1 = localOffsetSeconds(asUtc - localOffsetSeconds(asUtc));
  const guess = asUtc - o1;
  const o2 = localOffsetSeconds(guess);
  return o2 === o1 ? guess : asUtc - o2;
}
