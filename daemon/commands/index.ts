// Registers every subcommand on the program.
import type { Command } from 'commander';

export function registerCommands(program: Command): void {
  void program;
}
