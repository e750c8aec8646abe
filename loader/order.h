/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TIERD_ORDER_H
#define TIERD_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A lazily sorted sequence (incremental quicksort): order_at(o, p) gives
 * the item at position p of the sorted order, partitioning only the part
 * that holds p. Walking k items from either end costs O(n + k log k), not
 * a full sort's O(n log n): the engine looks at the hottest regions and
 * the coldest ones, and stops where its budgets run out.
 *
 * The order is total: k1 descending, then k2 descending, then idx
 * ascending (unique), so the result is one order whatever the pivots.
 */
struct oitem {
	double k1, k2;
	uint32_t idx;
	uint32_t w;			/* its weight, for order_prefix */
};

struct order {
	struct oitem *a;		/* the caller fills a[0..n) before order_start */
	unsigned char *fixed;		/* a[p] is in its sorted place */
	size_t n, cap;
	uint64_t rng;			/* pivots (speed only, never the order) */
};

static inline bool oitem_before(const struct oitem *x, const struct oitem *y)
{
	if (x->k1 != y->k1)
		return x->k1 > y->k1;
	if (x->k2 != y->k2)
		return x->k2 > y->k2;
	return x->idx < y->idx;
}

/* Room for n items in o->a; 0 or -1 (out of memory, o unchanged). */
int order_reserve(struct order *o, size_t n);
/* a[0..n) filled: start ordering them. */
void order_start(struct order *o, size_t n);
/* Right after order_start, with a[0..c) the first c items of the order
 * (in any arrangement; the caller partitioned them so): the boundary
 * fixed, at the cost of one look at those c. */
void order_split(struct order *o, size_t c);
/* The longest start of the order whose items' weights add up to at most
 * limit: its items moved to a[0..c) (in no particular order; those places
 * fixed as a set, not each), c returned and their weight in *sum. A
 * weighted quickselect: O(n), where walking the order to the same place
 * costs O(n + c log c). Right after order_start; no order_at after it. */
size_t order_prefix(struct order *o, uint64_t limit, uint64_t *sum);
/* The item at sorted position p (< n). */
const struct oitem *order_at(struct order *o, size_t p);
void order_free(struct order *o);

#endif
