// SPDX-License-Identifier: GPL-2.0-only
/*
 * tierd.conf / tierd.cfg / tags: good files, every kind of bad line (each
 * error names file:line, and a refused reading leaves the old one whole),
 * oversized files, layering of policies, Proxmox tags and migration locks.
 * Files live in a temporary folder; no root needed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "check.h"

static char dir[64], conf[128], cfg[128];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* tierd.conf pointing at our tierd.cfg and pve folder, plus `extra` */
static void host(const char *extra)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "# test\npve-dir %s/pve\npolicies %s\n%s", dir, cfg, extra);
	put(conf, buf);
}

static int load(struct config *c, char *why, size_t wl)
{
	return config_load(c, conf, true, why, wl);
}

static void test_good(void)
{
	struct config c;
	struct policy p;
	char why[600];

	host("epoch 1.5\nhost-rate 512\ndram-free-min 1G\nkernel-knobs no\nmetrics-dir /var/lib/prometheus/node-exporter\n"
	     "dram-nodes 0\nslow-nodes 1,2\n\n   # indented comment\nrate 128\ntarget-slow 0.1\n");
	put(cfg, "# cluster-wide\nvm: 101\n\tpin-hot\n\tdram-max 512M\n\nvm: 102\n    dram-max 2G\n    pin-hot no\n    rate 64\n");
	config_init(&c);
	CHECK(!load(&c, why, sizeof(why)), "%s", why);
	CHECK(c.eo.epoch_s == 1.5 && c.eo.host_rate_mbs == 512 && c.eo.dram_free_min == 1ULL << 30 &&
	      !c.eo.kernel_knobs, "host keys");
	CHECK(!strcmp(c.eo.slow_nodes, "1,2") && !strcmp(c.eo.dram_nodes, "0"), "nodes");
	CHECK(!strcmp(c.metrics_dir, "/var/lib/prometheus/node-exporter"), "metrics-dir %s", c.metrics_dir);
	CHECK(c.nvm == 2 && c.vm[0].vmid == 101 && c.vm[0].line == 2 && c.vm[1].vmid == 102, "sections");
	CHECK(!config_policy(&c, 101, NULL, &p, why, sizeof(why)) && p.pin_hot && p.dram_max == 512ULL << 20 &&
	      p.rate_mbs == 128 && p.target_slow == 0.1, "101: %s", why);
	CHECK(!config_policy(&c, 102, NULL, &p, why, sizeof(why)) && !p.pin_hot && p.rate_mbs == 64 &&
	      p.dram_max == 2ULL << 30, "102 layers over the defaults");
	CHECK(!config_policy(&c, 103, NULL, &p, why, sizeof(why)) && p.rate_mbs == 128 && !p.dram_max, "103: defaults only");
	/* hand-given options win */
	struct popts m = { 0 };
	CHECK(!popts_add(&m, "pin-hot", "no", why, sizeof(why)) && !popts_add(&m, "dram-max", "1G", why, sizeof(why)), "%s", why);
	CHECK(!config_policy(&c, 101, &m, &p, why, sizeof(why)) && !p.pin_hot && p.dram_max == 1ULL << 30, "manual last");
	CHECK(config_wants(&c, 101) && config_wants(&c, 102) && !config_wants(&c, 103), "sections ask for VMs");
	/* names that only look like the refused ones */
	static const char *const fine[] = { "/var/lib/..hidden", "/srv/.metrics/x", "/procfs", "/devel/prom", "/sysdata/", "/" };
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		CHECK(!config_host_option(&c, "metrics-dir", fine[i], why, sizeof(why)) && !strcmp(c.metrics_dir, fine[i]),
		      "%s: %s", fine[i], why);
	CHECK(config_host_option(&c, "metrics-dir", "/sys", why, sizeof(why)) && strstr(why, "metrics-dir: '/sys' lies under"),
	      "the command line's --metrics-dir: %s", why);
	config_free(&c);
}

/* Each bad file: refused, the message names file:line, c unchanged. */
static void bad(const char *host_extra, const char *policies, const char *want_file, int want_line, const char *want_text)
{
	struct config c;
	char why[600], at[300];

	host("");
	put(cfg, "vm: 555\n\tdram-max 1G\n");
	config_init(&c);
	if (load(&c, why, sizeof(why))) {
		CHECK(0, "the good file did not load: %s", why);
		return;
	}
	host(host_extra);
	put(cfg, policies);
	CHECK(load(&c, why, sizeof(why)) == -1, "accepted: %s / %s", host_extra, policies);
	snprintf(at, sizeof(at), "%s:%d: ", want_file, want_line);
	CHECK(!strncmp(why, at, strlen(at)) && strstr(why, want_text), "'%s' does not start with '%s' or lacks '%s'",
	      why, at, want_text);
	CHECK(c.nvm == 1 && c.vm[0].vmid == 555, "the old reading was changed");
	config_free(&c);
}

static void test_bad(void)
{
	/* host file: lines 1-3 are ours */
	bad("colour blue\n", "", conf, 4, "unknown key 'colour'");
	bad("epoch\n", "", conf, 4, "needs a value");
	bad("epoch 0\n", "", conf, 4, "out of range");
	bad("\n\nhost-rate fast\n", "", conf, 6, "out of range");
	bad("dram-free-min lots\n", "", conf, 4, "not a size");
	bad("kernel-knobs maybe\n", "", conf, 4, "not yes or no");
	bad("metrics-dir relative/path\n", "", conf, 4, "absolute path");
	/* paths cannot lead tierd out of where it belongs */
	bad("metrics-dir /var/lib/../../etc\n", "", conf, 4, "'..' component");
	bad("metrics-dir /var/lib/prometheus/..\n", "", conf, 4, "'..' component");
	bad("pve-dir /etc/./pve\n", "", conf, 4, "'.' or '..' component");
	bad("metrics-dir /proc/sys/kernel\n", "", conf, 4, "under /proc, /sys or /dev");
	bad("metrics-dir //sys/fs/cgroup\n", "", conf, 4, "under /proc, /sys or /dev");
	bad("policies /dev/shm/tierd.cfg\n", "", conf, 4, "under /proc, /sys or /dev");
	bad("pve-dir /proc\n", "", conf, 4, "under /proc, /sys or /dev");
	bad("metrics-dir /var/lib/a\x01b\n", "", conf, 4, "control character");
	bad("slow-nodes one\n", "", conf, 4, "node list");
	bad("dram-max 1X\n", "", conf, 4, "dram-max");
	bad("vm: 101\n", "", conf, 4, "belong in the policies file");
	/* policies file */
	bad("", "# c\nvm: 101\n\tdram-max huge\n", cfg, 3, "dram-max");
	bad("", "vm: 101\n\tcolour blue\n", cfg, 2, "unknown key 'colour'");
	bad("", "dram-max 1G\n", cfg, 1, "outside a 'vm: VMID' section");
	bad("", "vm: 42\n", cfg, 1, "not a VMID");
	bad("", "vm: abc\n", cfg, 1, "not a VMID");
	bad("", "vm:\n", cfg, 1, "not a VMID");
	bad("", "ct: 101\n", cfg, 1, "unknown section");
	bad("", "vm: 101\n\tpin-hot\n\nvm: 101\n", cfg, 4, "already has a section at line 1");
	bad("", "vm: 101\n\tpin-hot perhaps\n", cfg, 2, "not yes or no");
	bad("", "vm: 101\n\trate -5\n", cfg, 2, "rate");
	bad("", "vm: 101\n\ttarget-slow 0.9\n", cfg, 2, "target-slow");
	bad("", "vm: 101\n\tincoming\n", cfg, 2, "unknown key 'incoming'");

	/* a line over 512 characters */
	char longl[700];
	memset(longl, 'x', sizeof(longl) - 2);
	longl[sizeof(longl) - 2] = '\n';
	longl[sizeof(longl) - 1] = 0;
	bad("", longl, cfg, 1, "longer than 512");
}

static void test_size(void)
{
	struct config c;
	char why[600];
	size_t n = (1 << 20) + 1;
	char *big = malloc(n + 1);

	/* over pmxcfs's 1 MiB: refused before parsing, whatever it holds */
	memset(big, '#', n);
	big[n] = 0;
	host("");
	put(cfg, big);
	config_init(&c);
	CHECK(load(&c, why, sizeof(why)) == -1 && strstr(why, "1 MiB"), "%s", why);
	/* exactly 1 MiB of comments and sections: fine */
	size_t k = 0;
	long id = 100;
	while (k + 40 < (1 << 20))
		k += (size_t)sprintf(big + k, "vm: %ld\n\tdram-max 1G\n", id++);
	while (k < (1 << 20) - 1)
		big[k++] = '#';
	big[k++] = '\n';
	big[k] = 0;
	put(cfg, big);
	CHECK(!load(&c, why, sizeof(why)) && c.nvm == id - 100, "1 MiB: %s (%d sections)", why, c.nvm);
	config_free(&c);
	/* NUL bytes: not text */
	FILE *f = fopen(cfg, "w");
	fwrite("vm: 101\n\0\n", 1, 10, f);
	fclose(f);
	CHECK(load(&c, why, sizeof(why)) == -1 && strstr(why, "NUL"), "%s", why);
	free(big);
}

static void test_missing(void)
{
	struct config c;
	char why[600], path[200];

	/* no tierd.conf at the default: built-in settings; given by hand: an error */
	snprintf(path, sizeof(path), "%s/nonexistent.conf", dir);
	config_init(&c);
	CHECK(!config_load(&c, path, false, why, sizeof(why)) && c.eo.epoch_s == 2, "absent default: %s", why);
	CHECK(config_load(&c, path, true, why, sizeof(why)) == -1 && strstr(why, "no such file"), "%s", why);
	/* no policies file: no sections */
	host("");
	unlink(cfg);
	CHECK(!load(&c, why, sizeof(why)) && c.nvm == 0, "%s", why);
	config_free(&c);
}

static void test_tags(void)
{
	struct config c;
	struct policy p;
	char why[600], path[300];

	snprintf(path, sizeof(path), "%s/pve/qemu-server", dir);
	mkdir(path, 0755);
	host("");
	put(cfg, "vm: 104\n\tdram-max 1G\n");
	config_init(&c);
	CHECK(!load(&c, why, sizeof(why)), "%s", why);
	snprintf(path, sizeof(path), "%s/pve/qemu-server/101.conf", dir);
	put(path, "boot: order=scsi0\ntags: prod;tierd.pin-hot\nmemory: 4096\n[snap1]\ntags: tierd.off\n");
	snprintf(path, sizeof(path), "%s/pve/qemu-server/102.conf", dir);
	put(path, "tags: tierd web\n");
	snprintf(path, sizeof(path), "%s/pve/qemu-server/103.conf", dir);
	put(path, "tags: tierdx;tierd-pin-hot\n");
	snprintf(path, sizeof(path), "%s/pve/qemu-server/104.conf", dir);
	put(path, "tags: tierd.off\nlock: migrate\n");
	CHECK(config_tags(&c, 101) == TAGS_PIN_HOT, "tierd.pin-hot (a snapshot's tags do not count)");
	CHECK(config_tags(&c, 102) == TAGS_ON, "tierd, space-separated");
	CHECK(config_tags(&c, 103) == TAGS_NONE, "look-alikes are not tags");
	CHECK(config_tags(&c, 104) == TAGS_OFF, "tierd.off");
	CHECK(config_tags(&c, 105) == TAGS_NONE, "no config here");
	CHECK(config_wants(&c, 101) && config_wants(&c, 102) && !config_wants(&c, 103), "tags switch on");
	CHECK(!config_wants(&c, 104), "tierd.off beats a tierd.cfg section");
	CHECK(!config_policy(&c, 101, NULL, &p, why, sizeof(why)) && p.pin_hot, "tag gives pin-hot");
	/* migration: config still on the source node (absent here) or locked */
	CHECK(!pve_migrating(c.pve_dir, 101), "101 is here, unlocked");
	CHECK(pve_migrating(c.pve_dir, 104), "104 is locked");
	CHECK(pve_migrating(c.pve_dir, 106), "106's config is not on this node yet");
	snprintf(path, sizeof(path), "%s/pve/qemu-server/107.conf", dir);
	put(path, "memory: 4096\nlock: backup\n");
	CHECK(!pve_migrating(c.pve_dir, 107), "a backup's lock is not a migration");
	put(path, "lock: migrate-x\n");
	CHECK(!pve_migrating(c.pve_dir, 107), "only 'lock: migrate' itself");
	put(path, "tags: tierd\nlock: migrate\n[snap]\n");
	CHECK(pve_migrating(c.pve_dir, 107), "qm remote-migrate: local config, lock: migrate");
	snprintf(path, sizeof(path), "%s/no-pmxcfs", dir);
	CHECK(!pve_migrating(path, 106), "no pmxcfs: no lock to wait for");
	CHECK(!pve_mounted(c.pve_dir), "no .version: pmxcfs not mounted");
	snprintf(path, sizeof(path), "%s/pve/.version", dir);
	put(path, "7\n");
	CHECK(pve_mounted(c.pve_dir), ".version: pmxcfs mounted");
	unlink(path);
	config_free(&c);
}

static void test_stamp(void)
{
	struct config c;
	struct config_stamp a, b;
	char why[600];

	host("");
	put(cfg, "vm: 101\n");
	config_init(&c);
	CHECK(!load(&c, why, sizeof(why)), "%s", why);
	config_stamp(&c, &a);
	config_stamp(&c, &b);
	CHECK(config_stamp_eq(&a, &b), "unchanged files, same stamp");
	put(cfg, "vm: 101\n\tpin-hot\n");
	config_stamp(&c, &b);
	CHECK(!config_stamp_eq(&a, &b), "an edit changes the stamp");
	/* pmxcfs: whole-second mtimes, no stable inode; an edit in the same
	 * second to the same size differs only in its bytes */
	struct stat st;
	stat(cfg, &st);
	config_stamp(&c, &a);
	put(cfg, "vm: 102\n\tpin-hot\n");
	struct timespec ts[2] = { st.st_mtim, st.st_mtim };
	utimensat(AT_FDCWD, cfg, ts, 0);
	config_stamp(&c, &b);
	CHECK(a.size[1] == b.size[1] && a.mt[1].tv_sec == b.mt[1].tv_sec && a.mt[1].tv_nsec == b.mt[1].tv_nsec,
	      "same size and mtime");
	CHECK(!config_stamp_eq(&a, &b), "a same-second, same-size edit changes the stamp");
	config_free(&c);
}

int main(void)
{
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/tierd-config-test.XXXXXX");
	if (!mkdtemp(dir))
		return perror("mkdtemp"), 1;
	snprintf(conf, sizeof(conf), "%s/tierd.conf", dir);
	snprintf(cfg, sizeof(cfg), "%s/tierd.cfg", dir);
	snprintf(path, sizeof(path), "%s/pve", dir);
	mkdir(path, 0755);
	test_good();
	test_bad();
	test_size();
	test_missing();
	test_tags();
	test_stamp();
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("could not remove %s\n", dir);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
