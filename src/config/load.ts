// Reads and validates the daemon's YAML config. Every problem is one line naming the file and the
// key path (`channels.3.mtu: ...`), exit code 2.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../util/errors.js';
import { readRegularFile } from '../util/read-file.js';
import { configSchema, type Config } from './schema.js';

export type { Config, ChannelOverride } from './schema.js';

export class ConfigError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'ConfigError';
  }
}

/** A config is a page of YAML; anything near this size is not one. */
const MAX_CONFIG_BYTES = 1 << 20;
/** YAML aliases expanded at most this often: an alias bomb ("billion laughs") is refused, not expanded. */
const MAX_ALIAS_COUNT = 100;

export interface LoadedConfig {
  config: Config;
  /** The file read, or null when the built-in defaults were used. */
  path: string | null;
  /** Directory that relative paths in the config resolve against. */
  dir: string;
}

/** The config shipped with the package (config/rpmsg-eth.yaml), found from this module's location. */
export function defaultConfigPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'config', 'rpmsg-eth.yaml');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new ConfigError('cannot find the default config/rpmsg-eth.yaml: pass --config FILE');
    dir = parent;
  }
}

export function loadConfig(path: string = defaultConfigPath(), cwd: string = process.cwd()): LoadedConfig {
  const file = resolve(cwd, path);
  const text = readRegularFile(file, { what: 'config', maxBytes: MAX_CONFIG_BYTES, name: path }).toString('utf8');
  return { config: parseConfig(text, path), path: file, dir: dirname(file) };
}

/** Parses and validates config text; `name` is used in messages. */
export function parseConfig(text: string, name: string): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    // prettyErrors adds the position (linePos) and appends it plus a source excerpt to the message.
    const pos = yamlError.linePos?.[0];
    const where = pos === undefined ? '' : `${pos.line}:${pos.col}:`;
    const message = (yamlError.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${name}:${where} ${message}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (err) {
    // The yaml library's only failure here: aliases that would expand beyond maxAliasCount.
    throw new ConfigError(`${name}: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = configSchema.safeParse(data);
  if (!result.success) {
    const lines = result.error.issues.map(describeIssue);
    throw new ConfigError(`${name}: ${lines.join('; ')}`);
  }
  return result.data;
}

/** Resolves a path written in the config against the config file's directory. */
export function resolveFromConfig(loaded: LoadedConfig, path: string): string {
  return isAbsolute(path) ? path : resolve(loaded.dir, path);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'invalid_key') {
    return `${path}: ${issue.issues[0]?.message ?? issue.message}`;
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${path === '' ? '' : `${path}.`}${k}: unknown key`).join('; ');
  }
  return `${path === '' ? '(top level)' : path}: ${issue.message}`;
}
