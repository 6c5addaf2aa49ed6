// C printf("%g") for doubles, byte for byte as glibc prints it (precision 6, round-half-even on the exact binary
// value, trailing zeros removed, exponent with at least two digits, "nan"/"-nan"/"inf"/"-inf"/"-0").
//
// Contract: formatG(v) returns what `printf("%g", v)` prints. Pure, no allocation beyond the result string.

const PRECISION = 6;

/** The 6 significant digits of |v| (v finite, non-zero) correctly rounded half-to-even, and the decimal exponent. */
function roundSignificant(abs: number): { digits: string; exp: number } {
  // toExponential(5) rounds ties away from zero; glibc rounds ties to even. A tie at the 6th digit means the exact
  // binary value has exactly 7 significant decimal digits ending in 5; 21 digits show that exactly (a double that is
  // not the tie cannot sit within 1e-20 relative of it).
  const wide = abs.toExponential(20);
  const tail = wide.slice(7, 22);
  if (tail === '500000000000000') {
    const e = wide.indexOf('e');
    let exp = Number(wide.slice(e + 1));
    const head = wide[0]! + wide.slice(2, 7);
    const last = head.charCodeAt(5) - 48;
    if (last % 2 === 0) return { digits: head, exp };
    // Round up the 6-digit head (odd last digit).
    let n = Number(head) + 1;
    if (n === 1_000_000) {
      n = 100_000;
      exp += 1;
    }
    return { digits: String(n), exp };
  }
  const s = abs.toExponential(PRECISION - 1);
  const e = s.indexOf('e');
  return { digits: s[0]! + s.slice(2, e), exp: Number(s.slice(e + 1)) };
}

function stripZeros(digits: string): string {
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  return digits.slice(0, end);
}

export function formatG(v: number): string {
  if (v !== v) {
    // The sign bit of a NaN decides between "nan" and "-nan".
    const f = new Float64Array([v]);
    const hi = new Uint32Array(f.buffer)[1]!;
    return hi >>> 31 ? '-nan' : 'nan';
  }
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const neg = v < 0;
  const { digits, exp } = roundSignificant(neg ? -v : v);
  let out: string;
  if (exp < -4 || exp >= PRECISION) {
    const d = stripZeros(digits);
    const mant = d.length > 1 ? d[0] + '.' + d.slice(1) : d;
    const ae = exp < 0 ? -exp : exp;
    out = mant + (exp < 0 ? 'e-' : 'e+') + (ae < 10 ? '0' + ae : String(ae));
  } else if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1);
    const frac = stripZeros(digits.slice(exp + 1));
    out = frac === '' || frac === '0' ? intPart : intPart + '.' + frac;
  } else {
    const frac = stripZeros('0'.repeat(-exp - 1) + digits);
    out = '0.' + frac;
  }
  return neg ? '-' + out : out;
}
