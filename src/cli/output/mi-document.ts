// `--mi json`: one JSON document per invocation on stdout, the counterpart of LTTng's `--mi xml` <command>
// element: { "command": NAME, "output": {...}, "success": BOOL } plus "error": { code, message } when the
// command failed. The error text is the one printed on stderr (one message table, src/control/error-codes.ts).

export interface MiDocument {
  command: string;
  output: unknown;
  success: boolean;
  error?: { code: string; message: string };
}

export function renderMi(document: MiDocument): string {
  return JSON.stringify(document) + '\n';
}
