// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine's lazily sorted orders (order.c) against a full qsort with
 * the same total order: random keys with many ties (heat alike in a
 * region's neighbours, zero heat everywhere cold), read from the top, from
 * the bottom, both ends at once and at random places, as steer() does;
 * and order_prefix's weighted start of the order against the sorted one's.
 */
#include <stdlib.h>
#include "order.h"
#include "check.h"

static int cmp(const void *a, const void *b)
{
	const struct oitem *x = a, *y = b;

	return oitem_before(x, y) ? -1 : oitem_before(y, x) ? 1 : 0;
}

static uint64_t rs = 12345;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

int main(void)
{
	static const size_t sizes[] = { 0, 1, 2, 15, 16, 17, 100, 1000, 50000 };
	struct order o = { 0 };

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (int how = 0; how < 6; how++) {	/* 4, 5: walks 0 and 3 after order_split */
			size_t n = sizes[si], bad = 0;
			struct oitem *ref = malloc((n + 1) * sizeof(*ref));

			CHECK(ref && !order_reserve(&o, n + 1), "memory");
			for (size_t i = 0; i < n; i++) {
				uint64_t r = rnd();
				/* a third zero, a third from 8 values, a third spread */
				double k1 = r % 3 == 0 ? 0 : r % 3 == 1 ? (double)(r >> 8 & 7) : (double)(r >> 12) / 1e6;
				o.a[i] = ref[i] = (struct oitem){ .k1 = k1, .k2 = (double)(r >> 4 & 1), .idx = (uint32_t)i };
			}
			qsort(ref, n, sizeof(*ref), cmp);
			order_start(&o, n);
			if (how >= 4) {		/* those above a k1 to the front, as engine.c's rank does */
				size_t c = 0;
				for (size_t i = 0; i < n; i++)
					if (o.a[i].k1 > 3.5) {
						struct oitem t = o.a[c];
						o.a[c++] = o.a[i];
						o.a[i] = t;
					}
				order_split(&o, c);
			}
			int walk = how == 4 ? 0 : how == 5 ? 3 : how;
			for (size_t s = 0; s < n; s++) {
				size_t p = walk == 0 ? s : walk == 1 ? n - 1 - s : walk == 2 ? (s % 2 ? n - 1 - s / 2 : s / 2)
											   : (size_t)(rnd() % n);
				const struct oitem *it = order_at(&o, p);
				bad += it->idx != ref[p].idx;
			}
			CHECK(!bad, "n %zu, walk %d: %zu items out of place", n, how, bad);
			free(ref);
		}
	/* order_prefix: the longest start of the sorted order within a
	 * limit, for limits from nothing to all */
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (int lim = 0; lim < 5; lim++) {
			size_t n = sizes[si], want = 0, bad = 0;
			uint64_t total = 0, limit, got, acc = 0;
			struct oitem *ref = malloc((n + 1) * sizeof(*ref));
			unsigned char *in = calloc(n + 1, 1);

			CHECK(ref && in && !order_reserve(&o, n + 1), "memory");
			for (size_t i = 0; i < n; i++) {
				uint64_t r = rnd();
				double k1 = r % 3 == 0 ? 0 : r % 3 == 1 ? (double)(r >> 8 & 7) : (double)(r >> 12) / 1e6;
				o.a[i] = ref[i] = (struct oitem){ .k1 = k1, .k2 = (double)(r >> 4 & 1), .idx = (uint32_t)i,
								  .w = (uint32_t)(1 + (r >> 20) % 512) };
				total += ref[i].w;
			}
			limit = lim == 4 ? total + 1 : total * (uint64_t)lim / 4 + (uint64_t)lim * 7;
			qsort(ref, n, sizeof(*ref), cmp);
			while (want < n && acc + ref[want].w <= limit)
				acc += ref[want++].w;
			order_start(&o, n);
			size_t c = order_prefix(&o, limit, &got);
			for (size_t k = 0; k < c; k++)
				in[o.a[k].idx] = 1;
			for (size_t k = 0; k < want; k++)
				bad += !in[ref[k].idx];
			CHECK(c == want && got == acc && !bad, "n %zu, limit %llu: prefix of %zu (weight %llu), sorted %zu (%llu), %zu missing",
			      n, (unsigned long long)limit, c, (unsigned long long)got, want, (unsigned long long)acc, bad);
			free(ref);
			free(in);
		}
	order_free(&o);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
