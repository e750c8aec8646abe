// SPDX-License-Identifier: GPL-2.0-only
/*
 * The value parsers every reader uses: sizes, counts, booleans, VMIDs, node
 * lists, policy options (name=value as the socket and tierd.cfg give them).
 */
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
	parse_size(s, &u);
	parse_uint(s, UINT64_MAX, &u);
	parse_uint(s, 1000, &u);
	parse_bool(s, &b);
	parse_vmid(s, &id);
	parse_nodelist(s, &u);
	if ((eq = strchr(s, '=')))
		*eq++ = 0;
	popts_add(&o, s, eq, why, sizeof(why));
	return 0;
}
