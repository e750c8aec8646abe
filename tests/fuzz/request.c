// SPDX-License-Identifier: GPL-2.0-only
/* A control-socket request, as a client sends it (ctl_parse). */
#include "ctl.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req r;
	char why[600];

	if (size > CTL_MAX_REQ)		/* the server refuses longer ones unread */
		return 0;
	if (!ctl_parse((const char *)data, size, &r, why, sizeof(why)) &&
	    (r.kind == CTL_ATTACH || r.kind == CTL_DETACH) && (r.vmid < 100 || r.vmid > 999999999))
		abort();
	return 0;
}
