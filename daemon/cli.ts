#!/usr/bin/env node
// rpmsg-eth command line: one subcommand per file under daemon/commands/.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UserError } from '../src/util/errors.js';
import { registerCommands } from './commands/index.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('rpmsg-eth')
    .description(
      'Network interfaces (rpmsg0, rpmsg1, ...) over the rpmsg channels between Linux and a VxWorks core.',
    )
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nEnvironment: RPMSG_ETH_CONFIG (the config file), RPMSG_ETH_LOG (the log level of `up`),\n' +
        'RPMSG_ETH_CONTROL (the control socket); `rpmsg-eth up --help` tells the order they are looked at in.\n',
    )
    .exitOverride();
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof UserError) {
      process.stderr.write(`rpmsg-eth: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`rpmsg-eth: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
