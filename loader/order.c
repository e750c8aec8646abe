// SPDX-License-Identifier: GPL-2.0-only
/* A lazily sorted sequence (order.h). */
#include <stdlib.h>
#include <string.h>
#include "order.h"

#define SMALL 16

int order_reserve(struct order *o, size_t n)
{
	if (n <= o->cap)
		return 0;
	struct oitem *a = realloc(o->a, n * sizeof(*a));

	if (!a)
		return -1;
	o->a = a;
	unsigned char *f = realloc(o->fixed, n);

	if (!f)
		return -1;
	o->fixed = f;
	o->cap = n;
	return 0;
}

void order_start(struct order *o, size_t n)
{
	o->n = n;
	if (n)
		memset(o->fixed, 0, n);
	if (!o->rng)
		o->rng = 0x9E3779B97F4A7C15ULL;
}

static size_t pick(struct order *o, size_t lo, size_t hi)
{
	o->rng ^= o->rng << 13;
	o->rng ^= o->rng >> 7;
	o->rng ^= o->rng << 17;
	return lo + (size_t)(o->rng % (hi - lo));
}

static void swap(struct oitem *a, size_t i, size_t j)
{
	struct oitem t = a[i];

	a[i] = a[j];
	a[j] = t;
}

void order_split(struct order *o, size_t c)
{
	size_t m = 0;

	if (!c || c > o->n)
		return;
	for (size_t i = 1; i < c; i++)	/* the last of them in the order */
		if (oitem_before(&o->a[m], &o->a[i]))
			m = i;
	swap(o->a, m, c - 1);
	o->fixed[c - 1] = 1;
}

const struct oitem *order_at(struct order *o, size_t p)
{
	struct oitem *a = o->a;
	size_t lo, hi;

	if (o->fixed[p])
		return &a[p];
	/* the unsorted stretch around p: between two items in place */
	const unsigned char *l = p ? memrchr(o->fixed, 1, p) : NULL;
	const unsigned char *r = memchr(o->fixed + p + 1, 1, o->n - p - 1);

	lo = l ? (size_t)(l - o->fixed) + 1 : 0;
	hi = r ? (size_t)(r - o->fixed) : o->n;
	while (hi - lo > SMALL) {
		/* median of three random items as the pivot, at hi - 1 */
		size_t x = pick(o, lo, hi), y = pick(o, lo, hi), z = pick(o, lo, hi), m;

		if (oitem_before(&a[x], &a[y]))
			m = oitem_before(&a[y], &a[z]) ? y : oitem_before(&a[x], &a[z]) ? z : x;
		else
			m = oitem_before(&a[x], &a[z]) ? x : oitem_before(&a[y], &a[z]) ? z : y;
		swap(a, m, hi - 1);
		const struct oitem pv = a[hi - 1];
		size_t i = lo;

		for (size_t j = lo; j < hi - 1; j++)
			if (oitem_before(&a[j], &pv))
				swap(a, i++, j);
		swap(a, i, hi - 1);
		o->fixed[i] = 1;
		if (p == i)
			return &a[p];
		if (p < i)
			hi = i;
		else
			lo = i + 1;
	}
	for (size_t i = lo + 1; i < hi; i++) {
		struct oitem t = a[i];
		size_t j = i;

		for (; j > lo && oitem_before(&t, &a[j - 1]); j--)
			a[j] = a[j - 1];
		a[j] = t;
	}
	memset(o->fixed + lo, 1, hi - lo);
	return &a[p];
}

size_t order_prefix(struct order *o, uint64_t limit, uint64_t *sum)
{
	struct oitem *a = o->a;
	size_t lo = 0, hi = o->n;
	uint64_t acc = 0;	/* the weight of a[0..lo), all in the prefix */

	while (hi - lo > SMALL) {
		size_t x = pick(o, lo, hi), y = pick(o, lo, hi), z = pick(o, lo, hi), m;

		if (oitem_before(&a[x], &a[y]))
			m = oitem_before(&a[y], &a[z]) ? y : oitem_before(&a[x], &a[z]) ? z : x;
		else
			m = oitem_before(&a[x], &a[z]) ? x : oitem_before(&a[y], &a[z]) ? z : y;
		swap(a, m, hi - 1);
		const struct oitem pv = a[hi - 1];
		size_t i = lo;
		uint64_t before = 0;	/* the weight of a[lo..i): before the pivot */

		for (size_t j = lo; j < hi - 1; j++)
			if (oitem_before(&a[j], &pv)) {
				before += a[j].w;
				swap(a, i++, j);
			}
		swap(a, i, hi - 1);
		if (acc + before > limit) {
			hi = i;		/* the prefix ends before the pivot */
		} else if (acc + before + pv.w > limit) {
			*sum = acc + before;
			return i;	/* it ends at the pivot */
		} else {
			acc += before + pv.w;
			lo = i + 1;
		}
	}
	for (size_t i = lo + 1; i < hi; i++) {
		struct oitem t = a[i];
		size_t j = i;

		for (; j > lo && oitem_before(&t, &a[j - 1]); j--)
			a[j] = a[j - 1];
		a[j] = t;
	}
	while (lo < hi && acc + a[lo].w <= limit)
		acc += a[lo++].w;
	*sum = acc;
	return lo;
}

void order_free(struct order *o)
{
	free(o->a);
	free(o->fixed);
	memset(o, 0, sizeof(*o));
}
