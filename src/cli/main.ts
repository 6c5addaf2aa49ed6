// Entry of the `ltt` command line (bin/ltt calls main(argv); running this file directly does the same):
//   ltt [-g GROUP] [-m xml|json] [-n] [--sessiond-path PATH] [--rundir DIR] [-q | -v...] COMMAND [OPTIONS]
// Picks the command from the table, parses its options, runs it and maps the outcome to LTTng's exit codes
// (0 ok, 1 command error, 2 undefined command, 3 fatal, 4 warning). Every failure a user can cause is one
// "Error: ..." line on stderr; `--mi xml` / `--mi json` add one MI document on stdout. A stack trace only ever appears
// for a bug, and then with -v.

import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ControlError } from '../control/error-codes.js';
import { LTT_VERSION } from '../control/messages.js';
import { isLttError } from '../errors.js';
import { CliContext, defaultGlobalOptions, type GlobalOptions } from './cli-context.js';
import { CliError } from './cli-error.js';
import { COMMANDS, findCommand } from './command-table.js';
import { generalUsage } from './commands/help.js';
import { ExitCode } from './exit-codes.js';
import { listOptions, OptionError, parseCommandLine } from './option-parser.js';
import { renderMi, xmlCommandName } from './output/mi-document.js';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** `ltt --list-options`: lttng's global options in its order, then ltt's own --rundir. */
const GLOBAL_OPTIONS = ['--version', '-V', '--help', '-h', '--group', '-g', '--verbose', '-v', '--quiet', '-q', '--mi', '-m',
  '--no-sessiond', '-n', '--sessiond-path', '--relayd-path', '--list-options', '--list-commands', '--rundir'];

function parseGlobalOptions(argv: string[], io: Io): { options: GlobalOptions; rest: string[] } | ExitCode {
  const options = defaultGlobalOptions();
  let i = 0;
  const value = (flag: string, inline: string | undefined): string => {
    const v = inline ?? argv[++i];
    if (v === undefined) throw new OptionError(`${flag} (missing value)`);
    return v;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') break;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    switch (flag) {
      case '-g':
      case '--group':
        options.group = value(flag, inline);
        break;
      case '-m':
      case '--mi': {
        // lttng compares the format case-insensitively (its own tests pass --mi XML).
        const mi = value(flag, inline).toLowerCase();
        if (mi !== 'json' && mi !== 'xml') {
          io.stderr.write(`Error: Invalid MI output format: ${mi} (ltt supports --mi xml and --mi json)\n`);
          return ExitCode.ERROR;
        }
        options.mi = mi;
        break;
      }
      case '-n':
      case '--no-sessiond':
        options.noSessiond = true;
        break;
      case '--sessiond-path':
        options.sessiondPath = value(flag, inline);
        break;
      case '--relayd-path':
        options.relaydPath = value(flag, inline);
        break;
      case '--rundir':
        options.rundir = value(flag, inline);
        break;
      case '-q':
      case '--quiet':
        options.quiet = true;
        break;
      case '--verbose':
        options.verbose++;
        break;
      case '-V':
      case '--version':
        io.stdout.write(`ltt (Linux Trace Toolkit) ${LTT_VERSION}\n`);
        return ExitCode.SUCCESS;
      case '--list-options':
        io.stdout.write(GLOBAL_OPTIONS.join('\n') + '\n');
        return ExitCode.SUCCESS;
      case '--list-commands':
        io.stdout.write(COMMANDS.map((c) => c.name).join('\n') + '\n');
        return ExitCode.SUCCESS;
      case '-h':
      case '--help':
        io.stdout.write(generalUsage(COMMANDS));
        return ExitCode.SUCCESS;
      default:
        if (/^-v+$/.test(arg)) {
          options.verbose += arg.length - 1;
          break;
        }
        // popt's wording and lttng's exit status (1) for an unknown global option.
        io.stderr.write(`ltt: unrecognized option '${arg}'\n`);
        return ExitCode.ERROR;
    }
  }
  return { options, rest: argv.slice(i) };
}

/** Runs one ltt invocation and returns its exit code (never throws). */
export async function runCli(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<ExitCode> {
  let parsed;
  try {
    parsed = parseGlobalOptions(argv, io);
  } catch (error) {
    io.stderr.write(`Error: Missing value for option ${(error as Error).message}\n`);
    return ExitCode.ERROR;
  }
  if (typeof parsed === 'number') return parsed;
  const { options, rest } = parsed;
  const [name, ...commandArgv] = rest;
  if (name === undefined) {
    if (options.mi === 'json') {
      // Keep stdout one JSON document: the usage goes to stderr. (lttng's XML has no document for this.)
      io.stderr.write(generalUsage(COMMANDS));
      io.stdout.write(renderMi({ command: '', output: undefined, success: false, error: { code: 'UND', message: 'Missing command' } }, 'json'));
    } else io.stdout.write(generalUsage(COMMANDS));
    return ExitCode.ERROR;
  }
  let command;
  try {
    command = await findCommand(name);
  } catch (error) {
    // Its module did not load: a broken build, said in one line as bin/ltt says a missing one.
    io.stderr.write(`ltt: cannot load the ${name} command (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): run \`npm run build\`\n`);
    return ExitCode.FATAL;
  }
  if (!command) {
    const message = `${name} is not an ltt command. See 'ltt --help'.`;
    if (!options.quiet) io.stderr.write(`ltt: ${message}\n`);
    // Even an unknown command answers --mi json with one JSON document, so scripts can always parse stdout;
    // lttng's XML names only its own commands, and prints nothing here.
    if (options.mi === 'json') io.stdout.write(renderMi({ command: name, output: undefined, success: false, error: { code: 'UND', message } }, 'json'));
    return ExitCode.UNDEFINED;
  }
  if (options.mi === 'xml' && xmlCommandName(command.name) === undefined) {
    // LTTng's schema has no document for this command: lttng runs such a command (view) as without --mi.
    if (command.name !== 'help' && !options.quiet) io.stderr.write(`Warning: mi does not apply to ${command.name} command\n`);
    options.mi = undefined;
  }
  const ctx = new CliContext(options, command.name, io.stdout, io.stderr);
  let code: ExitCode;
  try {
    if (commandArgv.includes('--help') || (commandArgv.includes('-h') && command.name !== 'view')) {
      ctx.raw(command.help);
      return ExitCode.SUCCESS;
    }
    if (commandArgv.includes('--list-options')) {
      ctx.raw(listOptions(command.options));
      return ExitCode.SUCCESS;
    }
    if (command.subcommands && commandArgv.includes('--list-commands')) {
      ctx.raw(command.subcommands.join('\n') + '\n');
      return ExitCode.SUCCESS;
    }
    let args;
    try {
      args = parseCommandLine(commandArgv, command.options, command.passThroughUnknown, command.unknownTakesValue);
    } catch (error) {
      if (!(error instanceof OptionError)) throw error;
      ctx.error(`Unrecognized argument used with '${command.name}' command: ${error.message}`, 'UND');
      // lttng writes no XML document for a command line it could not parse.
      return ctx.options.mi === 'xml' ? ExitCode.UNDEFINED : finish(ctx, ExitCode.UNDEFINED, io);
    }
    code = await command.run(ctx, args);
  } catch (error) {
    code = reportFailure(ctx, error);
  } finally {
    ctx.close();
  }
  return finish(ctx, code, io);
}

function reportFailure(ctx: CliContext, error: unknown): ExitCode {
  if (error instanceof CliError) {
    ctx.error(error.message, error.code);
    return error.exitCode;
  }
  if (error instanceof ControlError || isLttError(error)) {
    ctx.error(error.message, error.code);
    if (ctx.options.verbose > 0 && error.cause) ctx.debug(`Caused by: ${String(error.cause)}`);
    return ExitCode.ERROR;
  }
  // Not a failure the user caused: a bug. Still one line, the stack only on request.
  const message = error instanceof Error ? error.message : String(error);
  ctx.error(`Internal error in ltt ${ctx.commandName}: ${message}`, 'FATAL');
  if (ctx.options.verbose > 0 && error instanceof Error && error.stack) ctx.debug(error.stack);
  return ExitCode.FATAL;
}

function finish(ctx: CliContext, code: ExitCode, io: Io): ExitCode {
  if (ctx.options.mi) {
    const success = code === ExitCode.SUCCESS;
    io.stdout.write(
      renderMi(
        { command: ctx.commandName, output: ctx.miOutput, success, ...(!success && ctx.miError ? { error: ctx.miError } : {}) },
        ctx.options.mi,
      ),
    );
  }
  return code;
}

export async function main(argv: string[]): Promise<void> {
  // `ltt list -k | head`: a reader that went away is not an error of ours, just the end of the output.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  // process.exitCode rather than process.exit(): `view` streams large outputs that must drain first.
  process.exitCode = await runCli(argv);
}

// Run when this file is the program itself (node dist/src/cli/main.js), not when bin/ltt or a test imports it.
function isEntryPoint(): boolean {
  const invokedPath = process.argv[1];
  if (!invokedPath) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(invokedPath)).href;
  } catch {
    return false; // `node -e`, or argv[1] is not a file
  }
}
if (isEntryPoint()) void main(process.argv.slice(2));
