// A capture file read as a stream of events — interfaces as they are declared, frames as they come —
// whatever its format: classic pcap (pcap-reader.ts) or pcapng (pcapng-reader.ts), told apart by the
// magic. Only a regular file is read; memory stays bounded however large the file is.
import { open } from 'node:fs/promises';
import { CaptureFileError, type CaptureEvent } from './capture-event.js';
import { PCAP_MAGICS, readPcap } from './pcap-reader.js';
import { PCAPNG_MAGIC, readPcapng } from './pcapng-reader.js';

export { CaptureFileError, type CaptureEvent } from './capture-event.js';

export const LINKTYPE_ETHERNET = 1;

const LINKTYPE_HINTS: Record<number, string> = {
  0: 'BSD loopback',
  101: 'raw IP; capture on an Ethernet interface instead',
  113: 'Linux cooked capture (tcpdump -i any); capture on one interface instead',
  276: 'Linux cooked capture v2 (tcpdump -i any); capture on one interface instead',
};

export function describeLinkType(linkType: number): string {
  const hint = LINKTYPE_HINTS[linkType];
  return `link type ${linkType}${hint ? ` (${hint})` : ''}`;
}

/** The events of the capture file at `path`. Throws CaptureFileError for an unusable file. */
export async function* readCaptureFile(path: string): AsyncGenerator<CaptureEvent> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CaptureFileError(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message);
  }
  let size: number;
  let magic: number;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new CaptureFileError('not a regular file');
    size = st.size;
    if (size === 0) throw new CaptureFileError('the file is empty');
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    if (bytesRead < 4) throw new CaptureFileError(`${bytesRead} byte(s) are too short for a capture file`);
    magic = head.readUInt32BE(0);
  } catch (err) {
    await fh.close();
    throw err;
  }
  if (magic === PCAPNG_MAGIC) {
    yield* readPcapng(fh);
    return;
  }
  await fh.close();
  const pcap = PCAP_MAGICS[magic];
  if (!pcap) throw new CaptureFileError(`not a pcap or pcapng file (magic ${magic.toString(16).padStart(8, '0')})`);
  if (size < 24) throw new CaptureFileError(`${size} bytes are too short for a pcap file header (24 bytes)`);
  yield* readPcap(path, size, pcap.nano);
}
