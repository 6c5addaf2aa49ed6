// LTTng 2.13's filter rules, one case each: the filters its regression tests refuse (tools/filtering/
// test_invalid_filter, test_unsupported_op) with the reason lttng prints, the ones its test_valid_filter
// accepts, and the corners of its lexer and grammar. ltt must give the same verdict with the same wording; the
// installed lttng (2.13.9) is asked too, so the tables below are the real thing's, not a guess. lttng checks a
// filter in the client before it needs a session daemon, so it runs as `nobody` with a private LTTNG_HOME and
// never reaches the machine's daemon: a valid filter then fails only with "No session daemon is available".

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { parseFilter } from '../../src/filter/parse-filter.js';
import { LttTestEnv } from '../cli/ltt-test-env.js';

/** [filter, LTTng's reason] */
const INVALID: [string, string][] = [
  // Unsupported operators (test_unsupported_op, and test_invalid_filter's first group).
  ['intfield * 1', "binary operation '*' not supported"],
  ['intfield / 1', "binary operation '/' not supported"],
  ['intfield % 1', "binary operation '%' not supported"],
  ['intfield + 1', "binary operation '+' not supported"],
  ['intfield - 1', "binary operation '-' not supported"],
  ['intfield*1', "binary operation '*' not supported"],
  ['1+11111-3333+1', "binary operation '+' not supported"],
  ['(1+2)*(55*666)', "binary operation '*' not supported"],
  ['1+2*55*666', "binary operation '+' not supported"],
  ['asdf + 1 > 1', "binary operation '+' not supported"],
  ['asdfas < 2332 || asdf + 1 > 1', "binary operation '+' not supported"],
  ['!+-+++-------+++++++++++-----!!--!44+1', "binary operation '+' not supported"],
  ['aaa||(gg)+(333----1)', "binary operation '+' not supported"],
  ['a.b.c->d.e.f+1', "binary operation '+' not supported"],
  // Syntax.
  ['((((((((((((((intfield)))))))))))))', 'syntax error'],
  ['0 || ("abc" != "def")) && (3 < 4)', 'syntax error'],
  ['a->', 'syntax error'],
  ['a-->a', 'syntax error'],
  ["a == ''", 'syntax error'],
  ['08 == a', 'syntax error'],
  ['a\r== 1', 'syntax error'],
  ['a == "x', 'syntax error'],
  ['a = 1', 'syntax error'],
  ['a == 1;', 'syntax error'],
  ['(a)[0] == 1', 'syntax error'],
  ['$ == 1', 'syntax error'],
  ['a == "ESCSEQ"', 'parse error: escape sequences not supported yet'],
  // A string is not a truth value nor an operand of unary, logical or bitwise operators, nor compared with numbers.
  ['"somestring"', 'String cannot be root data type'],
  ['("somestring")', 'String cannot be root data type'],
  ['!"somestring"', "unary operation '!' not allowed on string literal"],
  ['-"x" == a', "unary operation '-' not allowed on string literal"],
  ['~"x" == a', "unary operation '~' not allowed on string literal"],
  ['"somestring" > 42', "binary operation '>' operand type mismatch"],
  ['"somestring" > 42.0', "binary operation '>' operand type mismatch"],
  ['42 > "somestring"', "binary operation '>' operand type mismatch"],
  ['42.0 > "somestring"', "binary operation '>' operand type mismatch"],
  ['"a" == 1', "binary operation '==' operand type mismatch"],
  ['1 == 1 == "x"', "binary operation '==' operand type mismatch"],
  ['"somestring" || 1', "logical binary operation '||' cannot have string operand"],
  ['1 || "somestring"', "logical binary operation '||' cannot have string operand"],
  ['"x" && a', "logical binary operation '&&' cannot have string operand"],
  ['a & "x"', "bitwise binary operation '&' cannot have string operand"],
  ['"x" << 1', "bitwise binary operation '<<' cannot have string operand"],
  ['1.0 & 1', "bitwise binary operation '&' cannot have floating point operand"],
  ['a | -2.5', "bitwise binary operation '|' cannot have floating point operand"],
  // $ roots.
  ['$ctx == 0', "Expecting identifier after '$ctx'"],
  ['0 == $ctx', "Expecting identifier after '$ctx'"],
  ['$app == 0', "Expecting identifier after '$app'"],
  ['$global.value == 0', "Unexpected identifier '$global'"],
  ['0 == $global.value', "Unexpected identifier '$global'"],
  // Globs: two full star patterns are never compared; a full pattern only with == and !=.
  ['"hello*world" == "yes*man"', 'Cannot compare two globbing patterns'],
  ['"hello*world" == "yesman*"', 'Cannot compare two globbing patterns'],
  ['"helloworld*" == "yes*man"', 'Cannot compare two globbing patterns'],
  ['"a**" == "b*"', 'Cannot compare two globbing patterns'],
  ['"hello*world" < field', 'Only the `==` and `!=` operators are allowed with a globbing pattern'],
  ['"hello*world" <= field', 'Only the `==` and `!=` operators are allowed with a globbing pattern'],
  ['"hello*world" >= field', 'Only the `==` and `!=` operators are allowed with a globbing pattern'],
  ['"hello*world" > field', 'Only the `==` and `!=` operators are allowed with a globbing pattern'],
  ['field < "hello*world"', 'Only the `==` and `!=` operators are allowed with a globbing pattern'],
  ['field <= "hello*world"', 'Only the `==` and `!=` operators are allowed with a globbing pattern'],
  ['field >= "hello*world"', 'Only the `==` and `!=` operators are allowed with a globbing pattern'],
  ['field > "hello*world"', 'Only the `==` and `!=` operators are allowed with a globbing pattern'],
  ['"hello*world" || field', "logical binary operation '||' cannot have string operand"],
  ['"hello*world" && field', "logical binary operation '&&' cannot have string operand"],
  ['field && "hello*world"', "logical binary operation '&&' cannot have string operand"],
  ['field || "hello*world"', "logical binary operation '||' cannot have string operand"],
  // Escapes: a backslash escapes only a backslash or a star.
  ['a == "\\a"', 'Unsupported escape character detected.'],
  ['a == "x\\"', 'Unsupported escape character detected.'],
  // Array indexes are integer constants.
  ['field[abc] == 1', 'Expecting constant index in array expression'],
  ['a.b[c] == 1', 'Expecting constant index in array expression'],
  ['a[-1] == 1', 'Expecting constant index in array expression'],
  ['a[1.0] == 1', 'Expecting constant index in array expression'],
  ['a[(1)] == 1', 'Expecting constant index in array expression'],
  ['a["x"] == 1', 'Expecting constant index in array expression'],
  // The first problem found wins: arithmetic as soon as it is met, types bottom-up, escapes, then globs.
  ['"x" || (a * 2)', "binary operation '*' not supported"],
  ['"a\\q" || 1', "logical binary operation '||' cannot have string operand"],
  ['"a\\q*b" == "c*d"', 'Unsupported escape character detected.'],
];

const BIN_NAME = 'gen-ust-events';
const VALID: string[] = [
  // tools/filtering/test_valid_filter
  'intfield', 'intfield > 1', 'intfield >= 1', 'intfield < 2', 'intfield <= 2', 'intfield == 1', 'intfield != 99',
  '!intfield', '-intfield', '--intfield', '+intfield', '++intfield', 'intfield > 1 && longfield > 42',
  'intfield >= 42 && longfield <= 42', 'intfield < 1 || longfield > 98', '(stringfield == "test" || intfield != 10) && intfield > 33',
  'intfield < 42.4242424242', '"test" == "test"', 'stringfield == "test"', 'stringfield == "t*"', 'stringfield == "*"',
  'intfield < 0xDEADBEEF', 'intfield < 0x2', 'intfield < 02', 'stringfield2 == "\\\\*"', '1.0 || intfield || 1.0',
  '1 < intfield', '$ctx.vtid == 0', '$ctx.vtid != 0', '0 == $ctx.vtid', '0 != $ctx.vtid', '$ctx.vpid == 0',
  '$ctx.vpid != 0', '0 == $ctx.vpid', '0 != $ctx.vpid', `$ctx.procname == "${BIN_NAME}"`, `$ctx.procname != "${BIN_NAME}"`,
  `"${BIN_NAME}" == $ctx.procname`, `"${BIN_NAME}" != $ctx.procname`, `$ctx.procname == "${BIN_NAME}*"`,
  `"${BIN_NAME}*" != $ctx.procname`, '$ctx.procname == "*"', '"*" != $ctx.procname', '0 == $ctx.vtid.blah',
  '$ctx.vtid.blah == 0', 'asdf.asdfsd.sadf < 4', 'a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a', 'arrfield1[1]==2',
  'arrfield3[1]==2', 'seqfield3[1]==2', 'seqfield4[1]==2', '(arrfield1[0] | arrfield1[1] | arrfield1[2]) == 0x3',
  '(arrfield1[2] & 1) == 1', '(seqfield4[2] | 0x111000) == 0x111003', '!a.f.d', '(1 << 63) == 9223372036854775808',
  '(1<<63) < 0', '1<<-1', '1<<10000', '(1<<2!=4)==0', '(2^1==3)==1', '(3|1==3)==1', '1&3==1', '-1==~0',
  '~0>>4==0x0fffffffffffffff', '(~0 & 0xffffffffffffffff) == 0xffffffffffffffff', '1 >= (1 >= (1 >= 1))',
  '1 | (1 | (1 | 1))', '0^1', '0|1', '1&1',
  // The lexer's and grammar's corners.
  'a->b == 1', 'a[1][x] == 1', "a == 'x'", 'L"x" == a', "L'x' == a", 'a == ""', 'a /* comment */ == 1', 'a == 1 // comment',
  'a /* unterminated', 'a\n== 1', 'a\t== 1', '0x1.8p1 == a', '.5 < a', '1. < a', '1e3 < a', '1.5f < a', 'a == 1u',
  'a == 10UL', 'a == 0x10llu', ':a == 1', 'a::b == 1', '$app.provider:ctx == 1', '$ctx.vtid[0] == 1',
  '"hello*" < field', '"abc" < field', '"a*" == "b*"', '"a*b" == "c"', '"a\\*b" == "c*d"',
  '"a\\\\b" == x', 'a == 99999999999999999999', '"x" == a && (1.5 < b)', '~-+!a',
];

test('LTTng 2.13 refuses these filters, and ltt with its reason', () => {
  for (const [filter, reason] of INVALID) {
    assert.throws(
      () => parseFilter(filter),
      (e: Error & { code?: string }) => e.code === 'FILTER_SYNTAX' && e.message.startsWith(`Invalid filter: ${reason}`) && !e.message.includes('\n'),
      `${JSON.stringify(filter)} -> ${reason}`,
    );
  }
});

test('the filters LTTng 2.13 accepts parse', () => {
  for (const filter of VALID) assert.doesNotThrow(() => parseFilter(filter), JSON.stringify(filter));
});

test('an empty filter is an invalid parameter; filters too big for LTTng are refused too (bytecode limit)', () => {
  assert.throws(() => parseFilter(''), /^LttError: Invalid parameter: empty filter$/m);
  assert.throws(() => parseFilter('intfield' + ' && 1'.repeat(5460)), /^LttError: Invalid filter: /m);
});

/** The installed lttng's verdict: its reason, or undefined when the filter passed (and the daemon was missing). */
function lttngVerdict(filter: string, domain: '-u' | '-k', home: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'lttng', 'enable-event', domain, 'bogus', '-s', 'x', '--filter', filter], {
      env: { PATH: process.env.PATH, LTTNG_HOME: home },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      if (/No session daemon is available/.test(stderr)) return resolve(undefined);
      const first = stderr.split('\n')[0]!;
      resolve(first.replace(/^\[error\] (make_op: )?/, '').replace(/^error /, ''));
    });
  });
}

const lttngInstalled = spawnSync('lttng', ['--version']).status === 0 && process.getuid?.() === 0;

test('the installed lttng agrees with these tables, in both domains', { skip: !lttngInstalled && 'needs lttng and root (to run it as nobody)', timeout: 300_000 }, async () => {
  const home = mkdtempSync('/tmp/ltt-filter-lttng-');
  chmodSync(home, 0o777);
  try {
    const cases: [string, string | undefined][] = [...INVALID, ...VALID.map((f): [string, undefined] => [f, undefined]), ['', 'Error: Event bogus: Invalid parameter']];
    for (const domain of ['-u', '-k'] as const) {
      for (const [filter, reason] of cases) {
        const verdict = await lttngVerdict(filter, domain, home);
        if (reason === undefined) assert.equal(verdict, undefined, `lttng ${domain} accepts ${JSON.stringify(filter)}`);
        else assert.ok(verdict?.startsWith(reason), `lttng ${domain} refuses ${JSON.stringify(filter)}: ${verdict} (table: ${reason})`);
      }
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('ltt enable-event checks the filter in the client, the same for both domains, before needing a daemon', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    for (const domain of ['-k', '-u']) {
      const r = await env.ltt('enable-event', domain, 'bogus,other', '-s', 'nosession', '--filter', 'intfield * 1');
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        "Error: Event bogus: Invalid filter: binary operation '*' not supported (channel channel0, session nosession, filter 'intfield * 1')\n" +
          "Error: Event other: Invalid filter: binary operation '*' not supported (channel channel0, session nosession, filter 'intfield * 1')\n",
      );
      const str = await env.ltt('enable-event', domain, '-a', '-c', 'ch', '-s', 'nosession', '--filter', '"somestring"');
      assert.deepEqual([str.code, str.stderr], [1, `Error: All events: Invalid filter: String cannot be root data type (channel ch, session nosession, filter '"somestring"')\n`]);
    }
    // A valid filter goes on to the daemon, which is missing here.
    const valid = await env.ltt('-n', 'enable-event', '-u', 'bogus', '-s', 'nosession', '--filter', 'a == 1');
    assert.deepEqual([valid.code, valid.stderr], [1, 'Error: No session daemon is available\n']);
  } finally {
    await env.cleanup();
  }
});
