// Where each line of preprocessed DTS came from. cpp's line markers (`# LINE "FILE" FLAGS`: flag 1 enters
// an #include, flag 2 returns from one) give every file's include chain; dtc's own `/include/` lines are
// found in the text. With this an error that dtc or cpp reports at FILE:LINE can name how FILE was reached.

export interface SourcePos {
  file: string;
  line: number;
}

interface DtcInclude {
  target: string;
  at: SourcePos;
  chain: SourcePos[];
}

const MARKER = /^# (\d+) "((?:[^"\\]|\\.)*)"((?: \d)*)$/;
const DTC_INCLUDE = /^\s*\/include\/\s*"([^"]+)"/;

export class IncludeMap {
  /** Files entered through #include: the chain of includers when first entered (innermost first). */
  private readonly entered = new Map<string, SourcePos[]>();
  private readonly dtcIncludes: DtcInclude[] = [];

  constructor(preprocessed: string) {
    const stack: SourcePos[] = [];
    for (const text of preprocessed.split('\n')) {
      const m = MARKER.exec(text);
      if (m) {
        const pos = { file: m[2]!.replace(/\\(.)/g, '$1'), line: Number(m[1]) };
        const flags = m[3]!.trim().split(' ');
        if (flags.includes('1')) {
          // The #include directive is the line its file was at when the marker came.
          if (!this.entered.has(pos.file)) this.entered.set(pos.file, stack.map((p) => ({ ...p })).reverse());
          stack.push(pos);
        } else if (flags.includes('2')) {
          stack.pop();
          stack[stack.length - 1] = pos;
        } else {
          stack[Math.max(0, stack.length - 1)] = pos;
        }
        continue;
      }
      const top = stack[stack.length - 1];
      if (!top) continue;
      const inc = DTC_INCLUDE.exec(text);
      if (inc) this.dtcIncludes.push({ target: inc[1]!, at: { ...top }, chain: stack.slice(0, -1).map((p) => ({ ...p })).reverse() });
      top.line++;
    }
  }

  /** How `file` was reached, innermost includer first; [] for the top file or a file never seen. */
  chainOf(file: string): SourcePos[] {
    const viaCpp = this.entered.get(file);
    if (viaCpp) return viaCpp;
    const site = this.includeSite(file);
    return site ? [site.at, ...site.chain] : [];
  }

  /** The `/include/ "target"` line that names `file` (dtc reports the path it opened). */
  includeSite(file: string): { at: SourcePos; chain: SourcePos[] } | undefined {
    return this.dtcIncludes.find((i) => i.target === file || file.endsWith(`/${i.target}`));
  }
}
