// SPDX-License-Identifier: GPL-2.0-only
/*
 * tierd-guest: a bare-metal guest that touches its RAM like vm-standin.
 *
 * QEMU boots it with -kernel (multiboot v1, 32-bit, paging off). It reads
 * the memory map the loader hands over, fills every usable page at or above
 * 1 MiB with known contents, then touches that RAM with a pattern (a hot
 * set with a share of the accesses, Zipf over 2 MiB chunks, a hot set that
 * moves), a read/write mix and a rate, and prints one line per epoch on COM1.
 *
 * Contents: the 32-bit word at guest-physical address a holds tag(a) = (a / 4) * 0x9E3779B1 + seed * 0x85EBCA6B; word
 * 0 of each page holds tag(a) ^ gen, the page's write generation. A read
 * checks one word, a write checks word 0, bumps the generation and stores
 * word 0 and one more word; a sweep checks one whole page per 1024 accesses.
 * tag() is a function of the address alone, so the host can check a page
 * through QEMU's mapping too (tools/guest-truth does, to prove its map).
 *
 * The pattern works on "test pages": the usable pages after the guest's
 * own image and its generation table, numbered in address order across the
 * memory map's ranges. Each epoch line carries everything the host needs to
 * recompute the access distribution over guest-physical pages: the ranges,
 * the pattern and its parameters, and where the hot set is now.
 *
 * Options come from the kernel command line (-append), as --key=value or
 * --key value: --hot SIZE --hot-start SIZE --share F | --zipf S,
 * --move SEC, --write F, --rate N (0: flat out), --epoch SEC, --seed N.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define PAGE		4096u
#define WORDS		(PAGE / 4)
#define CHUNK_PAGES	512u
#define MAX_RANGES	16
#define MAX_CHUNKS	4096u		/* Zipf: 8 GiB of 2 MiB chunks */
#define MAX_REPORTED	10
#define TAG_MUL		0x9E3779B1u

extern char _end[];

/* ---- runtime support gcc -m32 may call ---- */

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

static uint64_t divmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;

	if (!d)
		d = 1;
	if (!(n >> 32) && !(d >> 32)) {
		*rem = (uint32_t)n % (uint32_t)d;
		return (uint32_t)n / (uint32_t)d;
	}
	for (int i = 63; i >= 0; i--) {
		r = r << 1 | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ull << i;
		}
	}
	*rem = r;
	return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d) { uint64_t r; return divmod64(n, d, &r); }
uint64_t __umoddi3(uint64_t n, uint64_t d) { uint64_t r; divmod64(n, d, &r); return r; }

/* ---- ports, serial, TSC ---- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return (uint64_t)hi << 32 | lo; }

#define COM1 0x3f8
static void serial_init(void)
{
	outb(COM1 + 1, 0);	/* no interrupts */
	outb(COM1 + 3, 0x80);	/* divisor latch */
	outb(COM1 + 0, 1);	/* 115200 */
	outb(COM1 + 1, 0);
	outb(COM1 + 3, 0x03);	/* 8N1 */
	outb(COM1 + 2, 0xc7);	/* FIFO */
	outb(COM1 + 4, 0x03);
}

static char line[1024];
static unsigned llen;

static void putc_(char c)
{
	if (llen < sizeof(line) - 2)
		line[llen++] = c;
}

static void flush(void)
{
	line[llen++] = '\n';
	for (unsigned i = 0; i < llen; i++) {
		while (!(inb(COM1 + 5) & 0x20))
			;
		outb(COM1, (uint8_t)line[i]);
	}
	llen = 0;
}

static void puts_(const char *s) { while (*s) putc_(*s++); }

static void putu(uint64_t v)
{
	char b[24];
	int i = 0;

	do {
		uint64_t r, q = divmod64(v, 10, &r);
		b[i++] = (char)('0' + r);
		v = q;
	} while (v);
	while (i)
		putc_(b[--i]);
}

static void putx(uint64_t v)
{
	puts_("0x");
	for (int s = 60, any = 0; s >= 0; s -= 4) {
		unsigned d = (v >> s) & 15;
		if (d || any || !s) {
			putc_("0123456789abcdef"[d]);
			any = 1;
		}
	}
}

static void putkv(const char *k, uint64_t v) { putc_(' '); puts_(k); putc_('='); putu(v); }
static void putkx(const char *k, uint64_t v) { putc_(' '); puts_(k); putc_('='); putx(v); }

/* a value in millionths, printed as a decimal */
static void putmilli(const char *k, uint64_t micro)
{
	uint64_t r, q = divmod64(micro, 1000000, &r);

	putc_(' '); puts_(k); putc_('=');
	putu(q);
	putc_('.');
	for (uint64_t d = 100000; d; d /= 10) {
		uint64_t digit = divmod64(r, d, &r);
		putc_((char)('0' + digit));
	}
}

static uint64_t tsc_hz;

/* TSC ticks in 50 ms of PIT channel 2 (1.193182 MHz); under TCG both run
 * on QEMU's virtual clock. */
static void calibrate(void)
{
	const uint16_t count = 59659;	/* 50 ms */

	outb(0x61, (inb(0x61) & ~0x02) | 0x01);	/* gate on, speaker off */
	outb(0x43, 0xb0);			/* ch2, lobyte/hibyte, mode 0 */
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	uint64_t t0 = rdtsc();
	while (!(inb(0x61) & 0x20))
		;
	tsc_hz = (rdtsc() - t0) * 20;
	if (!tsc_hz)
		tsc_hz = 1000000000ull;
}

/* ---- options ---- */

static struct {
	uint64_t hot, hot_start;
	uint32_t share_micro, write_micro, zipf_micro;
	uint64_t rate;
	uint32_t epoch_ms, move_ms;
	uint32_t seed;
} o = { .share_micro = 900000, .write_micro = 200000, .epoch_ms = 1000, .seed = 1 };

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* "64M" -> bytes; "0.9" with scale 1e6 -> 900000 */
static uint64_t parse_num(const char *s, uint64_t scale)
{
	uint64_t v = 0, frac = 0, div = 1;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			if (div < 1000000000ull) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				div *= 10;
			}
			s++;
		}
	}
	switch (*s) {
	case 'k': case 'K': scale = 1ull << 10; break;
	case 'm': case 'M': scale = 1ull << 20; break;
	case 'g': case 'G': scale = 1ull << 30; break;
	}
	return v * scale + frac * scale / div;
}

static char cmdline[512];
static bool has_hot;

static void set_opt(const char *k, const char *v)
{
	if (streq(k, "hot")) { o.hot = parse_num(v, 1); has_hot = true; }
	else if (streq(k, "hot-start")) o.hot_start = parse_num(v, 1);
	else if (streq(k, "share") || streq(k, "hot-share")) o.share_micro = (uint32_t)parse_num(v, 1000000);
	else if (streq(k, "zipf")) o.zipf_micro = (uint32_t)parse_num(v, 1000000);
	else if (streq(k, "move") || streq(k, "move-every")) o.move_ms = (uint32_t)parse_num(v, 1000);
	else if (streq(k, "write")) o.write_micro = (uint32_t)parse_num(v, 1000000);
	else if (streq(k, "rate")) o.rate = parse_num(v, 1);
	else if (streq(k, "epoch")) o.epoch_ms = (uint32_t)parse_num(v, 1000);
	else if (streq(k, "seed")) o.seed = (uint32_t)parse_num(v, 1);
	else { puts_("tierd-guest unknown-option="); puts_(k); flush(); }
}

static void parse_cmdline(void)
{
	char *tok[64];
	int n = 0;

	for (char *p = cmdline; *p && n < 64;) {
		while (is_space(*p))
			*p++ = 0;
		if (!*p)
			break;
		tok[n++] = p;
		while (*p && !is_space(*p))
			p++;
	}
	/* QEMU passes "KERNEL-PATH APPEND": the first word is the path */
	for (int i = 1; i < n; i++) {
		char *k = tok[i], *v = NULL;

		while (*k == '-')
			k++;
		for (char *e = k; *e; e++)
			if (*e == '=') { *e = 0; v = e + 1; break; }
		if (!v) {
			if (i + 1 >= n)
				break;
			v = tok[++i];
		}
		if (o.epoch_ms == 0)
			o.epoch_ms = 1000;
		set_opt(k, v);
	}
	if (!o.epoch_ms)
		o.epoch_ms = 1000;
}

/* ---- memory ---- */

struct range { uint32_t gpa, pages, first; };
static struct range ranges[MAX_RANGES], raw[MAX_RANGES];
static int nranges, nraw;
static uint32_t npages, nchunks;
static uint32_t *gen;

static inline uint32_t tag(uint32_t a) { return (a >> 2) * TAG_MUL + o.seed * 0x85EBCA6Bu; }

/* guest-physical address of test page p */
static inline uint32_t page_gpa(uint32_t p)
{
	int i = 0;

	while (i + 1 < nranges && p >= ranges[i + 1].first)
		i++;
	return ranges[i].gpa + (p - ranges[i].first) * PAGE;
}

static void clip(uint32_t from)
{
	nranges = 0;
	npages = 0;
	for (int i = 0; i < nraw; i++) {
		uint32_t s = raw[i].gpa, e = raw[i].gpa + raw[i].pages * PAGE;
		if (s < from)
			s = from;
		if (s >= e)
			continue;
		ranges[nranges].gpa = s;
		ranges[nranges].pages = (e - s) / PAGE;
		ranges[nranges].first = npages;
		npages += ranges[nranges].pages;
		nranges++;
	}
}

struct mb_mmap { uint32_t size; uint64_t addr, len; uint32_t type; } __attribute__((packed));

static void read_mbi(const uint32_t *mbi)
{
	uint32_t flags = mbi[0];

	if (flags & (1u << 2)) {
		const char *c = (const char *)(uintptr_t)mbi[4];
		unsigned i = 0;
		while (c[i] && i < sizeof(cmdline) - 1) {
			cmdline[i] = c[i];
			i++;
		}
	}
	if (flags & (1u << 6)) {
		uintptr_t p = mbi[12], end = p + mbi[11];
		while (p < end && nraw < MAX_RANGES) {
			const struct mb_mmap *m = (const void *)p;
			uint64_t s = m->addr, e = m->addr + m->len;
			if (m->type == 1 && s < 0xfffff000ull) {
				if (e > 0xfffff000ull)
					e = 0xfffff000ull;
				if (s < 0x100000)
					s = 0x100000;
				s = (s + PAGE - 1) & ~(uint64_t)(PAGE - 1);
				e &= ~(uint64_t)(PAGE - 1);
				if (e > s) {
					raw[nraw].gpa = (uint32_t)s;
					raw[nraw].pages = (uint32_t)((e - s) / PAGE);
					nraw++;
				}
			}
			p += m->size + 4;
		}
	} else if (flags & 1) {		/* mem_upper only: KiB above 1 MiB */
		raw[0].gpa = 0x100000;
		raw[0].pages = mbi[2] / 4;
		nraw = 1;
	}
}

/* ---- pattern ---- */

static uint64_t rng;
static inline uint32_t rnd(void)
{
	uint64_t x = rng;

	x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
	rng = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint32_t hot_pages, hot_start, share_thr, write_thr;
static uint32_t zcdf[MAX_CHUNKS];	/* Zipf: cumulative share by rank, in 2^-32 */
static uint32_t zstride;

static double xlog(double x)		/* x >= 1 */
{
	int k = 0;
	double z, z2, s = 0, t;

	while (x >= 2) { x /= 2; k++; }
	z = (x - 1) / (x + 1);
	z2 = z * z;
	t = z;
	for (int i = 1; i < 40; i += 2) {
		s += t / i;
		t *= z2;
	}
	return 2 * s + k * 0.69314718055994531;
}

static double xexp(double y)		/* y <= 0 */
{
	int k = 0;
	double s = 1, t = 1;

	while (y < -0.5) { y += 0.69314718055994531; k++; }
	for (int i = 1; i < 25; i++) {
		t *= y / i;
		s += t;
	}
	while (k--)
		s /= 2;
	return s;
}

static double zw[MAX_CHUNKS];

static void zipf_init(void)
{
	double skew = o.zipf_micro / 1e6, sum = 0, c = 0;

	for (uint32_t r = 0; r < nchunks; r++)
		sum += zw[r] = xexp(-skew * xlog((double)(r + 1)));
	for (uint32_t r = 0; r < nchunks; r++) {
		c += zw[r] / sum;
		zcdf[r] = c >= 1 ? 0xffffffffu : (uint32_t)(c * 4294967296.0);
	}
	zcdf[nchunks - 1] = 0xffffffffu;
	/* ranks over chunks with a stride coprime to nchunks, as vm-standin */
	zstride = (uint32_t)(nchunks * 0.618) | 1;
	while (nchunks > 1) {
		uint32_t a = zstride, b = nchunks;
		while (b) { uint32_t t = a % b; a = b; b = t; }
		if (a == 1)
			break;
		zstride += 2;
	}
}

static inline uint32_t pick(void)
{
	uint32_t u = rnd();

	if (o.zipf_micro) {
		uint32_t lo = 0, hi = nchunks - 1;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			if (zcdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		uint32_t c = (lo * zstride + hot_start / CHUNK_PAGES) % nchunks;
		uint32_t p = c * CHUNK_PAGES + rnd() % CHUNK_PAGES;
		return p < npages ? p : npages - 1;
	}
	if (hot_pages && (hot_pages >= npages || u < share_thr))
		return (hot_start + rnd() % hot_pages) % npages;
	return (hot_start + hot_pages + rnd() % (npages - hot_pages)) % npages;
}

/* ---- integrity ---- */

static uint64_t verified, errors, accesses;

static void bad(uint32_t a, uint32_t got, uint32_t want)
{
	if (errors++ < MAX_REPORTED) {
		puts_("tierd-guest integrity_error");
		putkx("gpa", a); putkx("got", got); putkx("want", want);
		flush();
	}
}

static inline void check(uint32_t p, uint32_t gpa, uint32_t w)
{
	uint32_t a = gpa + w * 4, v = *(volatile uint32_t *)(uintptr_t)a;
	uint32_t want = w ? tag(a) : tag(a) ^ gen[p];

	verified++;
	if (v != want)
		bad(a, v, want);
}

static void fill(void)
{
	for (int i = 0; i < nranges; i++) {
		uint32_t *q = (uint32_t *)(uintptr_t)ranges[i].gpa;
		uint32_t n = ranges[i].pages * WORDS, t = tag(ranges[i].gpa);

		/* unrolled (a page is 1024 words): under TCG the loop's own
		 * instructions cost as much as the stores */
		for (uint32_t k = 0; k + 8 <= n; k += 8, t += 8 * TAG_MUL) {
			q[k] = t; q[k + 1] = t + TAG_MUL; q[k + 2] = t + 2 * TAG_MUL; q[k + 3] = t + 3 * TAG_MUL;
			q[k + 4] = t + 4 * TAG_MUL; q[k + 5] = t + 5 * TAG_MUL; q[k + 6] = t + 6 * TAG_MUL; q[k + 7] = t + 7 * TAG_MUL;
		}
	}
}

static inline void access_one(void)
{
	uint32_t p = pick(), gpa = page_gpa(p), r = rnd(), w = r % WORDS;

	if (rnd() < write_thr) {
		check(p, gpa, 0);
		gen[p]++;
		*(volatile uint32_t *)(uintptr_t)gpa = tag(gpa) ^ gen[p];
		if (w)
			*(volatile uint32_t *)(uintptr_t)(gpa + w * 4) = tag(gpa + w * 4);
	} else {
		check(p, gpa, w);
	}
}

/* ---- main ---- */

static void put_params(void)
{
	puts_(" pattern="); puts_(o.zipf_micro ? "zipf" : "hotset");
	putkv("pages", npages);
	putkx("hot_gpa", page_gpa(hot_start));
	putkv("hot_start", (uint64_t)hot_start * PAGE);
	putkv("hot_bytes", o.zipf_micro ? 0 : (uint64_t)hot_pages * PAGE);
	putmilli("share", o.share_micro);
	putmilli("zipf", o.zipf_micro);
	putkv("zstride", zstride);
	putmilli("write", o.write_micro);
	putkv("seed", o.seed);
	puts_(" ranges=");
	for (int i = 0; i < nranges; i++) {
		if (i)
			putc_(',');
		putx(ranges[i].gpa); putc_('+'); putx((uint64_t)ranges[i].pages * PAGE);
	}
}

void guest_main(uint32_t magic, const uint32_t *mbi);
void guest_main(uint32_t magic, const uint32_t *mbi)
{
	serial_init();
	if (magic != 0x2BADB002) {
		puts_("tierd-guest error=not-multiboot");
		flush();
		return;
	}
	read_mbi(mbi);
	parse_cmdline();
	calibrate();

	/* the generation table sits right after the image, test pages after it */
	uint32_t img_end = ((uint32_t)(uintptr_t)_end + PAGE - 1) & ~(PAGE - 1);
	clip(img_end);
	gen = (uint32_t *)(uintptr_t)img_end;
	clip((img_end + npages * 4 + PAGE - 1) & ~(PAGE - 1));
	if (!npages) {
		puts_("tierd-guest error=no-ram");
		flush();
		return;
	}
	memset(gen, 0, npages * 4);
	nchunks = (npages + CHUNK_PAGES - 1) / CHUNK_PAGES;
	if (nchunks > MAX_CHUNKS)
		nchunks = MAX_CHUNKS;
	if (!has_hot)
		o.hot = (uint64_t)npages * PAGE / 8;
	hot_pages = (uint32_t)(o.hot / PAGE);
	if (hot_pages > npages)
		hot_pages = npages;
	hot_start = (uint32_t)(o.hot_start / PAGE) % npages;
	share_thr = o.share_micro >= 1000000 ? 0xffffffffu : (uint32_t)((uint64_t)o.share_micro * 4294967296ull / 1000000);
	write_thr = o.write_micro >= 1000000 ? 0xffffffffu : (uint32_t)((uint64_t)o.write_micro * 4294967296ull / 1000000);
	rng = (uint64_t)o.seed * 0x9E3779B97F4A7C15ull | 1;
	if (o.zipf_micro)
		zipf_init();

	uint64_t t_fill = rdtsc();
	fill();
	uint64_t t0 = rdtsc();
	puts_("tierd-guest ready");
	putkv("tsc_hz", tsc_hz);
	putkv("fill_ms", (t0 - t_fill) * 1000 / tsc_hz);
	put_params();
	flush();

	uint64_t epoch_cyc = tsc_hz * o.epoch_ms / 1000, next = t0 + epoch_cyc, last = t0;
	uint64_t move_cyc = o.move_ms ? tsc_hz * o.move_ms / 1000 : 0, move_at = t0 + move_cyc;
	uint64_t batch_cyc = o.rate ? tsc_hz * 1024 / o.rate : 0, batch_at = t0;
	uint64_t since = 0, epoch = 0;
	uint32_t sweep = 0;

	for (;;) {
		for (int i = 0; i < 1024; i++)
			access_one();
		accesses += 1024;
		since += 1024;
		uint32_t g = page_gpa(sweep);
		for (uint32_t w = 0; w < WORDS; w++)
			check(sweep, g, w);
		sweep = (sweep + 1) % npages;

		uint64_t t = rdtsc();
		if (batch_cyc) {
			batch_at += batch_cyc;
			while ((t = rdtsc()) < batch_at)
				__asm__ volatile("pause");
		}
		if (move_cyc && t >= move_at) {
			uint32_t step = o.zipf_micro ? npages / 4 : (hot_pages ? hot_pages : 1);
			hot_start = (hot_start + step) % npages;
			move_at += move_cyc;
		}
		if (t >= next) {
			puts_("tierd-guest");
			putkv("t_ms", (t - t0) * 1000 / tsc_hz);
			putkv("epoch", ++epoch);
			putkv("accesses", since);
			putkv("rate", since * tsc_hz / (t - last));
			putkv("total", accesses);
			putkv("verified", verified);
			putkv("errors", errors);
			put_params();
			flush();
			since = 0;
			last = t;
			next += epoch_cyc;
			if (next < t)
				next = t + epoch_cyc;
		}
	}
}
