/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Constants of the device-tree binding of the board's rpmsg platform driver
 * (compatible = "fsl,nokia-rpmsg"), for board files: #include <dt-bindings/rpmsg/nokia-rpmsg.h>.
 */
#ifndef _DT_BINDINGS_RPMSG_NOKIA_RPMSG_H
#define _DT_BINDINGS_RPMSG_NOKIA_RPMSG_H

/* rpmsg-role: which side of a channel creates its vrings */
#define NOKIA_RPMSG_MASTER	1
#define NOKIA_RPMSG_REMOTE	2

/* QorIQ MPIC message registers (MSGRn) the cores ring each other with */
#define QORIQ_MSGIRQ(n)		(n)

#endif /* _DT_BINDINGS_RPMSG_NOKIA_RPMSG_H */
