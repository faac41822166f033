// Builds the CLI and the simulated peer once before the suite, so end-to-end tests run what ships.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build:peer'], { stdio: 'inherit' });
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}
