// Registers every subcommand on the program.
import type { Command } from 'commander';
import { checkCommand } from './check.js';
import { peerRestartCommand } from './peer-restart.js';
import { planCommand } from './plan.js';
import { reloadCommand } from './reload.js';
import { statsCommand } from './stats.js';
import { statusCommand } from './status.js';
import { upCommand } from './up.js';

export function registerCommands(program: Command): void {
  program.addCommand(checkCommand());
  program.addCommand(planCommand());
  program.addCommand(upCommand());
  program.addCommand(statusCommand());
  program.addCommand(statsCommand());
  program.addCommand(reloadCommand());
  program.addCommand(peerRestartCommand());
}
