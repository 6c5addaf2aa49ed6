// Entry of the `ltt` command line: picks the command and maps its outcome to LTTng's exit codes
// (0 ok, 1 command error, 2 undefined command, 3 fatal, 4 warning).
// (Being written: the session commands land with the sessiond work; `view` is wired first.)

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'view') {
    const { runView } = await import('../view/run-view.js');
    process.exitCode = await runView(rest);
    return;
  }
  process.stderr.write(`Error: Unknown command "${command ?? ''}"\n`);
  process.exitCode = 2;
}
