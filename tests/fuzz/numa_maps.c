// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/PID/numa_maps: bytes per node (numa_maps_read, numa_maps_bytes'
 * parser), of every mapping (odd sizes) or of two ranges (even).
 */
#include "util.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t ranges[2][2] = { { 0x7f0000000000, 0x7f4000000000 }, { 0x1000, 0x200000 } };
	uint64_t bytes[64];
	FILE *f;

	if (!size || !(f = fmemopen((void *)data, size, "r")))
		return 0;
	if (size & 1)
		numa_maps_read(f, NULL, 0, bytes, 64);
	else
		numa_maps_read(f, ranges, 2, bytes, 8);
	fclose(f);
	return 0;
}
