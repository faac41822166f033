// A board file in the shape real ones have — the SoC's .dtsi pulled in with #include, another with dtc's
// /include/, constants from a <dt-bindings/...> header, the SoC's disabled rpmsg node enabled and filled
// in by a `&rpmsg { ... };` override — and the same tree written flat by hand, for comparison.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BoardFiles {
  board: string;
  /** The folder to pass as --include (holds dt-bindings/). */
  includeDir: string;
  socDtsi: string;
  irqDtsi: string;
  flat: string;
}

/** Lines of the files, so tests can point at them. */
export const BOARD_LINES = { socInclude: 3, irqInclude: 4 } as const;

const HEADER = `/* dt-bindings style: constants for board files */
#ifndef _DT_BINDINGS_TEST_RPMSG_H
#define _DT_BINDINGS_TEST_RPMSG_H
#define TEST_RPMSG_MASTER	1
#define TEST_KIB(n)		((n) * 1024)
#define TEST_EP(ch)		(0x10 * ((ch) + 1))
#endif
`;

const SOC = `/ {
	#address-cells = <2>;
	#size-cells = <2>;

	soc {
		rpmsg: rpmsg {
			compatible = "fsl,nokia-rpmsg";
			channel-num = <0>;
			status = "disabled";
		};
	};
};
`;

const IRQS = `/ {
	soc {
		msgirq3 {
			compatible = "alu,msgirq";
			msg-num = <3>;
		};
	};
};
`;

const TABLE = (v: { master: string; ep: (ch: number) => string; kib8: string }) => `	input-msgirq-num = <3 3 3>;
	output-msgirq-num = <7 7 7>;
	input-dstcpu-id = <0 0 0>;
	output-dstcpu-id = <2 2 2>;
	rpmsg-role = <${v.master} ${v.master} ${v.master}>;
	channel-num = <0 1 2>;
	channel-src = <0 1 2>;
	channel-dst = <0x100 0x200 0x300>;
	channel-name = "ch-fsproxy", "ch-eqpthwa", "ch-redundancy";
	eth-dev-endpoints = <${v.ep(0)} ${v.ep(1)} ${v.ep(2)}>;
	misc-dev-endpoints = <0x12 0x22 0x32>;
	shmem-rx-vring = <0x0 0xB8000000 0x0 0xB8210000 0x0 0xB8260000>;
	shmem-tx-vring = <0x0 0xB8008000 0x0 0xB8218000 0x0 0xB8268000>;
	data-buffer-pool = <0x0 0xB8010000 0x0 0xB8220000 0x0 0xB8270000>;
	rpmsg-num-bufs = <256 512 512>;
	rpmsg-buf-size = <${v.kib8} 512 512>;
	status = "okay";
`;

const BOARD = `/dts-v1/;
#include <dt-bindings/test/rpmsg.h>
#include "soc.dtsi"
/include/ "irqs.dtsi"

/ {
	model = "test board";
};

&rpmsg {
${TABLE({ master: 'TEST_RPMSG_MASTER', ep: (ch) => `TEST_EP(${ch})`, kib8: 'TEST_KIB(8)' })}};
`;

const FLAT = `/dts-v1/;

/ {
	#address-cells = <2>;
	#size-cells = <2>;
	model = "test board";

	soc {
		rpmsg {
			compatible = "fsl,nokia-rpmsg";
${TABLE({ master: '1', ep: (ch) => `0x${(0x10 * (ch + 1)).toString(16)}`, kib8: '8192' })}		};

		msgirq3 {
			compatible = "alu,msgirq";
			msg-num = <3>;
		};
	};
};
`;

export function writeBoardFiles(dir: string): BoardFiles {
  const includeDir = join(dir, 'include');
  mkdirSync(join(includeDir, 'dt-bindings/test'), { recursive: true });
  const files: BoardFiles = {
    board: join(dir, 'board.dts'),
    includeDir,
    socDtsi: join(dir, 'soc.dtsi'),
    irqDtsi: join(dir, 'irqs.dtsi'),
    flat: join(dir, 'flat.dts'),
  };
  writeFileSync(join(includeDir, 'dt-bindings/test/rpmsg.h'), HEADER);
  writeFileSync(files.socDtsi, SOC);
  writeFileSync(files.irqDtsi, IRQS);
  writeFileSync(files.board, BOARD);
  writeFileSync(files.flat, FLAT);
  return files;
}

export { SOC as BOARD_SOC_DTSI, IRQS as BOARD_IRQ_DTSI };
