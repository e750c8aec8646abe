// SPDX-License-Identifier: GPL-2.0-only
/*
 * The option tables (options.h) against the man pages: tierd.conf(5)
 * documents every policy key and host key, tierd(8) every command-line
 * option they give, and neither documents a key the tables lack. Then the
 * code the tables generate: defaults, the parser's messages, the
 * comparison, `tierd config`'s line. Reads man/ from the source tree
 * ($TIERD_SRC, else the current folder: tests/run runs from the top).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "options.h"
#include "check.h"

#define MAX_ITEMS 64

struct items {
	int n;
	char name[MAX_ITEMS][48];
};

static void add(struct items *it, const char *w)
{
	if (it->n < MAX_ITEMS)
		snprintf(it->name[it->n++], sizeof(it->name[0]), "%s", w);
}

static bool has(const struct items *it, const char *w)
{
	for (int i = 0; i < it->n; i++)
		if (!strcmp(it->name[i], w))
			return true;
	return false;
}

/*
 * The names a section (".SH <title>") of a man page documents: the first
 * word of each ".TP" item's line, and a word after "word," there
 * (".BI dram\-nodes " list" "\fR, \fPslow\-nodes " list"). Escapes
 * dropped: "\-" is '-', "\fX" nothing; quotes are spaces.
 */
static int man_items(const char *page, const char *title, struct items *it)
{
	char path[512], line[1024];
	const char *src = getenv("TIERD_SRC");
	bool in = false, item = false;
	FILE *f;

	memset(it, 0, sizeof(*it));
	snprintf(path, sizeof(path), "%s/man/%s", src && *src ? src : ".", page);
	if (!(f = fopen(path, "r"))) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, ".SH ", 4)) {
			in = !strcmp(line + 4, title);
			item = false;
			continue;
		}
		if (!in)
			continue;
		if (!strcmp(line, ".TP")) {
			item = true;
			continue;
		}
		if (!item)
			continue;
		item = false;
		char clean[1024], *w, *save = NULL;
		size_t n = 0;
		for (const char *c = line + strcspn(line, " "); *c && n < sizeof(clean) - 1; c++) {
			if (c[0] == '\\' && c[1] == '-') {
				clean[n++] = '-';
				c++;
			} else if (c[0] == '\\' && c[1] == 'f' && c[2]) {
				c += 2;
			} else {
				clean[n++] = *c == '"' ? ' ' : *c;
			}
		}
		clean[n] = 0;
		bool first = true, after_comma = false;
		for (w = strtok_r(clean, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			size_t l = strlen(w);
			bool comma = w[l - 1] == ',';
			if (comma)
				w[--l] = 0;
			if (l && (first || after_comma))
				add(it, w);
			first = false;
			after_comma = comma;
		}
	}
	fclose(f);
	CHECK(it->n > 0, "%s: no items under .SH %s", page, title);
	return 0;
}

static void test_conf5(void)
{
	struct items pol, host;

	if (man_items("tierd.conf.5", "POLICY KEYS", &pol) || man_items("tierd.conf.5", "HOST KEYS (tierd.conf)", &host)) {
		CHECK(0, "tierd.conf.5 not read");
		return;
	}
	for (int i = 0; i < npolicy_keys; i++)
		CHECK(has(&pol, policy_keys[i].key), "tierd.conf(5), POLICY KEYS: no %s", policy_keys[i].key);
	for (int i = 0; i < pol.n; i++)
		CHECK(policy_key(pol.name[i]), "tierd.conf(5) documents policy key %s: not in POLICY_OPTIONS", pol.name[i]);
	for (int i = 0; i < nhost_keys; i++)
		CHECK(has(&host, host_keys[i].key), "tierd.conf(5), HOST KEYS: no %s", host_keys[i].key);
	for (int i = 0; i < host.n; i++)
		CHECK(host_key_desc(host.name[i]), "tierd.conf(5) documents host key %s: not in HOST_OPTIONS", host.name[i]);
}

static void test_tierd8(void)
{
	/* what tierd(8) documents beside the tables' options */
	static const char *const pol_extra[] = { "--incoming", "--hook" };
	static const char *const opt_extra[] = { "--config", "--duration", "--status-every", "-v" };
	struct items pol, opt;
	char b[64];

	if (man_items("tierd.8", "POLICY OPTIONS", &pol) || man_items("tierd.8", "OPTIONS", &opt)) {
		CHECK(0, "tierd.8 not read");
		return;
	}
	for (int i = 0; i < npolicy_keys; i++) {
		snprintf(b, sizeof(b), "--%s", policy_keys[i].key);
		CHECK(has(&pol, b), "tierd(8), POLICY OPTIONS: no %s", b);
	}
	for (int i = 0; i < pol.n; i++) {
		bool known = !strncmp(pol.name[i], "--", 2) && policy_key(pol.name[i] + 2);
		for (size_t k = 0; k < sizeof(pol_extra) / sizeof(pol_extra[0]); k++)
			known |= !strcmp(pol.name[i], pol_extra[k]);
		CHECK(known, "tierd(8) documents policy option %s: not in POLICY_OPTIONS", pol.name[i]);
	}
	for (int i = 0; i < nhost_keys; i++) {
		const struct opt_desc *h = &host_keys[i];
		snprintf(b, sizeof(b), "--%s%s", h->cli == H_NO ? "no-" : "", h->key);
		CHECK(h->cli == H_FILE ? !has(&opt, b) : has(&opt, b), "tierd(8), OPTIONS: %s %s", b,
		      h->cli == H_FILE ? "is there, but only tierd.conf takes it" : "missing");
	}
	for (int i = 0; i < opt.n; i++) {
		const char *w = opt.name[i];
		bool known = false;
		if (!strncmp(w, "--no-", 5)) {
			const struct opt_desc *h = host_key_desc(w + 5);
			known = h && h->cli == H_NO;
		} else if (!strncmp(w, "--", 2)) {
			const struct opt_desc *h = host_key_desc(w + 2);
			known = h && h->cli == H_ARG;
		}
		for (size_t k = 0; k < sizeof(opt_extra) / sizeof(opt_extra[0]); k++)
			known |= !strcmp(w, opt_extra[k]);
		CHECK(known, "tierd(8) documents option %s: not a host key the command line takes", w);
	}
}

/* The generated code keeps what the hand-written one said. */
static void test_generated(void)
{
	struct policy p, q;
	char why[300];
	FILE *f;
	char out[512] = "";

	policy_default(&p);
	CHECK(!p.pin_hot && !p.dram_max && p.rate_mbs == 256 && p.target_slow == 0.05 && p.io_slow_us == 5000,
	      "policy defaults");
	CHECK(policy_option(&p, "pin-hot", NULL, why, sizeof(why)) == 0 && p.pin_hot, "bare pin-hot");
	CHECK(policy_option(&p, "pin-hot", "no", why, sizeof(why)) == 1 && !p.pin_hot, "pin-hot no");
	CHECK(policy_option(&p, "pin-hot", "perhaps", why, sizeof(why)) < 0 &&
	      !strcmp(why, "pin-hot: 'perhaps' is not yes or no"), "%s", why);
	CHECK(policy_option(&p, "dram-max", "1M", why, sizeof(why)) < 0 &&
	      !strcmp(why, "--dram-max: '1M' is not a size of at least 2M (K/M/G suffixes)"), "%s", why);
	CHECK(policy_option(&p, "rate", NULL, why, sizeof(why)) < 0 && !strcmp(why, "--rate needs a value"), "%s", why);
	CHECK(policy_option(&p, "rate", "fast", why, sizeof(why)) < 0 && !strcmp(why, "--rate: 'fast' is not a number"),
	      "%s", why);
	CHECK(policy_option(&p, "rate", "0", why, sizeof(why)) < 0 && !strcmp(why, "--rate: 0 MB/s is outside (0, 100000]"),
	      "%s", why);
	CHECK(policy_option(&p, "target-slow", "0.5", why, sizeof(why)) < 0 &&
	      !strcmp(why, "--target-slow: 0.5 is not a share in (0, 0.5), like 0.05"), "%s", why);
	CHECK(policy_option(&p, "io-slow-us", "inf", why, sizeof(why)) < 0, "io-slow-us inf");
	CHECK(policy_option(&p, "incoming", NULL, why, sizeof(why)) < 0 && !strcmp(why, "unknown policy option --incoming"),
	      "incoming is not a policy key: %s", why);
	CHECK(policy_option(&p, "dram-max", "4G", why, sizeof(why)) == 1 && p.dram_max == 4ULL << 30, "dram-max 4G");
	q = p;
	CHECK(policy_eq(&p, &q), "equal");
	q.target_slow = 0.1;
	CHECK(!policy_eq(&p, &q), "target-slow differs");
	if ((f = fmemopen(out, sizeof(out) - 1, "w"))) {
		policy_print(f, &p);
		fclose(f);
	}
	CHECK(!strcmp(out, " pin-hot no, dram-max 4.0 GiB, rate 256 MB/s, target-slow 0.050, io-slow-us 5000"), "'%s'", out);
	CHECK(!strcmp(policy_key_list(), "pin-hot, dram-max, rate, target-slow, io-slow-us"), "%s", policy_key_list());

	struct config c;
	config_init(&c);
	memset(out, 0, sizeof(out));
	if ((f = fmemopen(out, sizeof(out) - 1, "w"))) {
		config_print_host(f, &c);
		fclose(f);
	}
	CHECK(!strcmp(out, "  epoch 2.00 s, host-rate 1024 MB/s, dram-free-min 268435456 B, kernel-knobs yes\n"
			   "  metrics-dir " METRICS_DIR_DEFAULT ", pve-dir /etc/pve\n"), "'%s'", out);
	struct config n = c;
	char list[128];
	CHECK(config_restart_diff(&n, &c, list, sizeof(list)) == 0 && !list[0], "no difference: '%s'", list);
	CHECK(!config_host_option(&n, "epoch", "5", why, sizeof(why)) && !config_host_option(&n, "pve-dir", "/srv/pve", why, sizeof(why)) &&
	      !config_host_option(&n, "metrics-dir", "none", why, sizeof(why)), "%s", why);
	CHECK(config_restart_diff(&n, &c, list, sizeof(list)) == 2 && !strcmp(list, "epoch, pve-dir"), "'%s'", list);
	config_keep_restart(&n, &c);
	CHECK(n.eo.epoch_s == 2 && !strcmp(n.pve_dir, "/etc/pve") && n.eo.pve_dir == n.pve_dir && !n.metrics_dir[0],
	      "kept until restart: epoch, pve-dir; not metrics-dir");
	CHECK(config_host_option(&n, "bogus", "1", why, sizeof(why)) < 0 && !strcmp(why, "unknown key 'bogus'"), "%s", why);
	CHECK(config_host_option(&n, "rate", "1", why, sizeof(why)) < 0, "a policy key is no host setting");
}

int main(void)
{
	test_conf5();
	test_tierd8();
	test_generated();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
