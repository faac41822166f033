// Registers every subcommand on the program.
import type { Command } from 'commander';
import { captureCommand } from './capture.js';
import { checkCommand } from './check.js';
import { peerRestartCommand } from './peer-restart.js';
import { planCommand } from './plan.js';
import { reloadCommand } from './reload.js';
import { replayCommand } from './replay.js';
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
  program.addCommand(captureCommand());
  program.addCommand(replayCommand());
  program.addCommand(peerRestartCommand());
}
