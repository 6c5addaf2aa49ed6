// The MI tree's two serializers: LTTng's XML (libxml2's layout and escaping) and ltt's JSON from the same tree.

import assert from 'node:assert/strict';
import test from 'node:test';
import { array, group, jsonOnly, leaf, renderMi } from '../../src/cli/output/mi-document.js';

const HEAD =
  '<?xml version="1.0" encoding="UTF-8"?>\n<command xmlns="https://lttng.org/xml/ns/lttng-mi" ' +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="https://lttng.org/xml/ns/lttng-mi ' +
  'https://lttng.org/xml/schemas/lttng-mi/4/lttng-mi-4.1.xsd" schemaVersion="4.1">';

const output = array('sessions', [
  group('session', [
    leaf('name', 'a&b <"c">\r\x01'),
    leaf('path', ''),
    leaf('enabled', false),
    leaf('max', 2n ** 64n - 1n),
    array('domains', []),
    jsonOnly(leaf('extra', 7)),
  ]),
]);

test('XML: lttng\'s layout, escaping and empty elements; ltt\'s own values left out', () => {
  assert.equal(
    renderMi({ command: 'destroy', output, success: true }, 'xml'),
    `${HEAD}<name>destroy</name><output><sessions><session><name>a&amp;b &lt;&quot;c&quot;&gt;&#13;\ufffd</name>` +
      '<path></path><enabled>false</enabled><max>18446744073709551615</max><domains/></session></sessions></output>' +
      '<success>true</success></command>\n',
  );
  // list and version have no <success>; status is lttng's list; a failure without output has <output/>.
  assert.equal(renderMi({ command: 'status', output: undefined, success: false }, 'xml'), `${HEAD}<name>list</name><output/></command>\n`);
  assert.equal(
    renderMi({ command: 'start', output: undefined, success: false, error: { code: 'X', message: 'm' } }, 'xml'),
    `${HEAD}<name>start</name><output/><success>false</success></command>\n`,
  );
});

test('JSON: the same tree, lists as arrays, ltt\'s own values included, the error of a failure', () => {
  assert.deepEqual(JSON.parse(renderMi({ command: 'destroy', output, success: false, error: { code: 'X', message: 'm' } }, 'json')), {
    command: 'destroy',
    output: { sessions: [{ name: 'a&b <"c">\r\x01', path: '', enabled: false, max: 18446744073709552000, domains: [], extra: 7 }] },
    success: false,
    error: { code: 'X', message: 'm' },
  });
  assert.deepEqual(JSON.parse(renderMi({ command: 'list', output: undefined, success: true }, 'json')), { command: 'list', output: null, success: true });
});
