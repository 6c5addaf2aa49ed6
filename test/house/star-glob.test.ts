// LTTng's star globs (src/star-glob.ts), as lttng-tools' strutils_star_glob_match() reads them: the one matcher
// of kernel and user-space event rules and of filter string comparisons.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { isStarGlob, starGlobMatches, starGlobRegExp, unescapeStarGlob } from '../../src/star-glob.js';

test('stars match any run, none included, anywhere in the pattern', () => {
  assert.ok(starGlobMatches('sched_*', 'sched_switch'));
  assert.ok(starGlobMatches('sched_*', 'sched_'));
  assert.ok(!starGlobMatches('sched_*', 'xsched_switch'));
  assert.ok(starGlobMatches('*', ''));
  assert.ok(starGlobMatches('*', 'demo:tick'));
  assert.ok(starGlobMatches('a*b*c', 'abc'));
  assert.ok(starGlobMatches('a*b*c', 'aXXbYc'));
  assert.ok(!starGlobMatches('a*b*c', 'acb'));
  assert.ok(starGlobMatches('a*', 'a\nb'), 'a star crosses line breaks (filter strings may hold them)');
});

test('a backslash makes the next character literal; a lone trailing one matches nothing', () => {
  assert.ok(starGlobMatches('de\\*mo:x', 'de*mo:x'));
  assert.ok(!starGlobMatches('de\\*mo:x', 'deXmo:x'));
  assert.ok(starGlobMatches('a\\\\*', 'a\\'), '`\\\\` is a backslash, then a star');
  assert.ok(starGlobMatches('a\\\\*', 'a\\tail'));
  assert.ok(!starGlobMatches('a\\\\*', 'a*'));
  assert.ok(starGlobMatches('\\a\\b', 'ab'));
  assert.ok(!starGlobMatches('abc\\', 'abc\\'));
  assert.ok(!starGlobMatches('abc\\', 'abc'));
  assert.ok(!starGlobMatches('*\\', 'anything'));
});

test('only stars are special: ?, [..] and RegExp characters are literal', () => {
  for (const literal of ['a.b', '(x)+', '[ab]', 'a?c', '^$', 'a|b', 'x{2}', 'a/b']) {
    assert.ok(starGlobMatches(literal, literal), literal);
    assert.ok(starGlobRegExp(literal).test(literal), literal);
  }
  assert.ok(!starGlobMatches('a.b', 'axb'));
  assert.ok(!starGlobMatches('[ab]', 'a'));
  assert.ok(!starGlobMatches('a?c', 'abc'));
});

test('isStarGlob sees unescaped stars only; unescapeStarGlob gives the one name a pattern without stars matches', () => {
  assert.equal(isStarGlob('sched_*'), true);
  assert.equal(isStarGlob('sched_switch'), false);
  assert.equal(isStarGlob('a\\*'), false);
  assert.equal(isStarGlob('a\\\\*'), true);
  assert.equal(isStarGlob('\\'), false);
  assert.equal(unescapeStarGlob('a\\*b\\\\c\\d'), 'a*b\\cd');
  assert.ok(starGlobMatches('a\\*b\\\\c\\d', unescapeStarGlob('a\\*b\\\\c\\d')));
});
