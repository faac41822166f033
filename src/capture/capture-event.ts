// What the capture-file readers (pcap, pcapng) produce, and how they fail.

/** What is wrong with a capture file; the message does not name the file (the caller does). */
export class CaptureFileError extends Error {}

export type CaptureEvent =
  | { kind: 'interface'; index: number; linkType: number; name?: string }
  | {
      kind: 'frame';
      interface: number;
      data: Buffer;
      /** Length on the wire; more than data.length when the capture cut the frame. */
      originalLength: number;
      /** pcapng's direction flags, when set: 'rx' = received on the interface, 'tx' = sent. */
      direction?: 'rx' | 'tx';
    };
