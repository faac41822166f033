// `--include DIR` (repeatable) on every command that reads a .dts: cpp's -I and dtc's -i, as in the kernel build.
import { Option } from 'commander';

export function includeOption(): Option {
  return new Option('-I, --include <dir>', 'folder searched by the .dts for #include <...> and /include/ (repeatable; before the config\'s deviceTreeIncludes)')
    .argParser((dir: string, dirs: string[] | undefined) => [...(dirs ?? []), dir]);
}
