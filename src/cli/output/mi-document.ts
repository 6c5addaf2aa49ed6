// The machine interface: one document per invocation on stdout, built once as a tree of elements (LTTng's MI
// model, mi-lttng-4.1.xsd: names, order, nesting) and written by either serializer:
//   --mi xml  LTTng's document, byte for byte in its layout (what scripts, LTTng's tests and Trace Compass read);
//   --mi json ltt's extension: the same tree as JSON ({ command, output, success } plus error { code, message }
//             when the command failed), lists as arrays, and the values ltt adds (jsonOnly) that the XSD lacks.
// The error text is the one printed on stderr (one message table, src/control/error-codes.ts); LTTng's XML has
// no place for it, so only JSON carries it.

export type MiFormat = 'json' | 'xml';
export type MiScalar = string | number | bigint | boolean;

export interface MiNode {
  name: string;
  value?: MiScalar;
  children?: MiNode[];
  /** A list: a JSON array of its children (whose names are XML's only). */
  array?: boolean;
  /** ltt's own addition, absent from LTTng's schema: JSON only. */
  jsonOnly?: boolean;
}

export const leaf = (name: string, value: MiScalar): MiNode => ({ name, value });

/** An element with these children, in order; absent (undefined/false) children are left out. */
export function group(name: string, children: ReadonlyArray<MiNode | undefined | false>): MiNode {
  return { name, children: children.filter((c): c is MiNode => c !== undefined && c !== false) };
}

export const array = (name: string, items: MiNode[]): MiNode => ({ name, children: items, array: true });

export const jsonOnly = (node: MiNode): MiNode => ({ ...node, jsonOnly: true });

/** A node with one more child at the end (an echoed object followed by its <success>). */
export const withChild = (node: MiNode, child: MiNode): MiNode => ({ ...node, children: [...(node.children ?? []), child] });

export interface MiDocument {
  command: string;
  /** The one element inside <output> (LTTng's output_type is a choice); none: <output/>. */
  output: MiNode | undefined;
  success: boolean;
  error?: { code: string; message: string };
}

/** The command names LTTng's schema knows (command_string_type), ltt's `status` being lttng's `list`. */
const XML_COMMAND_NAMES: Record<string, string> = Object.fromEntries(
  ['add-context', 'clear', 'create', 'destroy', 'disable-channel', 'disable-event', 'disable-rotation', 'enable-channel',
    'enable-event', 'enable-rotation', 'list', 'load', 'regenerate', 'rotate', 'save', 'set-session', 'snapshot', 'start',
    'stop', 'track', 'untrack', 'version'].map((name) => [name, name]).concat([['status', 'list']]),
);

/** The name the XML document gives this command, or undefined when LTTng's schema has no such command. */
export function xmlCommandName(command: string): string | undefined {
  return XML_COMMAND_NAMES[command];
}

/** lttng's list and version documents have no <success> element. */
const WITHOUT_SUCCESS = new Set(['list', 'version']);

export function renderMi(document: MiDocument, format: MiFormat): string {
  return format === 'xml' ? renderXml(document) : renderJson(document);
}

function jsonValue(node: MiNode): unknown {
  if (node.children === undefined) return typeof node.value === 'bigint' ? Number(node.value) : node.value;
  const children = node.children;
  if (node.array) return children.map(jsonValue);
  const object: Record<string, unknown> = {};
  for (const child of children) object[child.name] = jsonValue(child);
  return object;
}

function renderJson(document: MiDocument): string {
  return JSON.stringify({
    command: document.command,
    output: document.output ? { [document.output.name]: jsonValue(document.output) } : null,
    success: document.success,
    ...(!document.success && document.error ? { error: document.error } : {}),
  }) + '\n';
}

const XML_HEADER =
  '<?xml version="1.0" encoding="UTF-8"?>\n<command xmlns="https://lttng.org/xml/ns/lttng-mi" ' +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="https://lttng.org/xml/ns/lttng-mi ' +
  'https://lttng.org/xml/schemas/lttng-mi/4/lttng-mi-4.1.xsd" schemaVersion="4.1">';

/** libxml2's text escaping (quotes too); characters XML 1.0 cannot carry become U+FFFD. */
function escapeText(text: string): string {
  return text
    .replace(/[&<>"\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#13;'))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
}

function xmlElement(node: MiNode): string {
  if (node.jsonOnly) return '';
  if (node.children === undefined) {
    const text = node.value === undefined ? '' : escapeText(String(node.value));
    return `<${node.name}>${text}</${node.name}>`;
  }
  const inner = node.children.map(xmlElement).join('');
  return inner === '' ? `<${node.name}/>` : `<${node.name}>${inner}</${node.name}>`;
}

function renderXml(document: MiDocument): string {
  const name = xmlCommandName(document.command) ?? document.command;
  const output = document.output ? xmlElement(document.output) : '';
  const success = WITHOUT_SUCCESS.has(name) ? '' : `<success>${document.success}</success>`;
  return `${XML_HEADER}<name>${escapeText(name)}</name>${output === '' ? '<output/>' : `<output>${output}</output>`}${success}</command>\n`;
}
