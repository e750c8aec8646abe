// SPDX-License-Identifier: GPL-2.0-only
/*
 * The value parsers every reader uses: sizes, counts, booleans, VMIDs, node
 * lists, policy options (name=value as the socket and tierd.cfg give them).
 */
#include <ctype.h>
#include "config.h"
#include "topo.h"
#include "util.h"
#include "vm.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[256], why[600], *eq;
	struct popts o = { 0 };
	uint64_t u;
	bool b;
	long id;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	/* what is accepted is a plain number: digits first (strtoull alone
	 * skips blanks and takes "-5" as 2^64 - 5) */
	if (!parse_size(s, &u) || !parse_uint(s, UINT64_MAX, &u))
		if (!isdigit((unsigned char)s[0]))
			abort();
	if (!parse_uint(s, 1000, &u) && u > 1000)
		abort();
	parse_bool(s, &b);
	parse_vmid(s, &id);
	parse_nodelist(s, &u);
	if ((eq = strchr(s, '=')))
		*eq++ = 0;
	popts_add(&o, s, eq, why, sizeof(why));
	return 0;
}
