// Calendar conversions the way babeltrace2 does them with libc: localtime_r()/gmtime_r() of a time_t for printing
// timestamps, mktime()/timegm() for the trimmer's `YYYY-MM-DD HH:MM:SS` bounds. The local zone is the process's TZ,
// which Node's Date honours (IANA names and simple POSIX forms such as EST5 or JST-9).
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

/** UTC offset in seconds of the local zone at time_t `sec`. */
export function localOffsetSeconds(sec: number): number {
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
  const d = new Date(2000, 0, 1, 0, 0, 0, 0);
  d.setFullYear(t.year, t.month - 1, t.day);
  d.setHours(t.hour, t.minute, t.second, 0);
  return Math.floor(d.getTime() / 1000);
}
