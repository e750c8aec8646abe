// SPDX-License-Identifier: GPL-2.0-only
/*
 * tierd probe: what this kernel offers tierd and what tierd would choose.
 * Every way into every sampler is loaded and attached for real, then
 * detached; nothing is left behind.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "json.h"
#include "log.h"
#include "samplers.h"
#include "tierd_cmd.h"

int cmd_probe(int argc, char **argv)
{
	static const struct option lo[] = {
		{"json", no_argument, 0, 'j'}, {"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	struct sampler_opts so = { .heat = HEAT_AUTO, .region_shift = 21,
				   .max_regions = 1024, .perf_period = 1000 };
	struct samplers s, one;
	struct utsname u;
	bool json = false;
	int c, verbose = log_verbosity;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jvh", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'v': log_init(++verbose); break;
		case 'h':
			printf("usage: tierd probe [--json]\n"
			       "  Try every way into every sampler on this kernel and report what\n"
			       "  attached, what did not and why, and what tierd would choose.\n");
			return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		return err("probe: unexpected argument '%s'", argv[optind]), 2;
	uname(&u);

	/* What tierd would choose... */
	if (samplers_start(&s, &so))
		return 1;
	/* ...and every heat way on its own, so the report covers all of them. */
	for (int v = 0; v < NR_HEAT_VIA; v++) {
		bool tried = false;

		for (int i = 0; i < s.ntries; i++)
			if (!strcmp(s.tries[i].sampler, "heat") && strstr(s.tries[i].via, v == HEAT_FENTRY ? "fentry" :
			    v == HEAT_KPROBE ? "kprobe" : v == HEAT_PERF_HW ? "hardware" : "software"))
				tried = true;
		if (tried)
			continue;
		so.heat = v;
		so.no_migrate = so.no_nvme = true;
		if (!samplers_start(&one, &so)) {
			for (int k = 0; k < one.ntries && s.ntries < MAX_ATTEMPTS; k++)
				if (!strncmp(one.tries[k].sampler, "heat", 4))
					s.tries[s.ntries++] = one.tries[k];
			samplers_stop(&one);
		}
	}

	if (json) {
		struct json j;

		json_start(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "kernel", u.release);
		json_kstr(&j, "forced", s.forced);
		json_kobj(&j, "chosen");
		json_kstr(&j, "heat", s.heat_via);
		json_kstr(&j, "heat_hw", s.heat2_via);
		json_kstr(&j, "migrate", s.mig_via);
		json_kstr(&j, "nvme", s.nvme_via);
		json_end(&j);
		json_karr(&j, "attempts");
		for (int i = 0; i < s.ntries; i++) {
			json_obj(&j);
			json_kstr(&j, "sampler", s.tries[i].sampler);
			json_kstr(&j, "via", s.tries[i].via);
			json_kbool(&j, "attached", !s.tries[i].err);
			json_ki64(&j, "errno", -s.tries[i].err);
			json_kstr(&j, "reason", s.tries[i].why);
			json_end(&j);
		}
		json_end(&j);
		json_end(&j);
		json_finish(&j);
	} else {
		printf("kernel %s\n", u.release);
		if (s.forced)
			printf("rungs forced by TIERD_SAMPLER=%s\n", s.forced);
		printf("\n");
		for (int i = 0; i < s.ntries; i++)
			printf("  %-8s %-42s %s\n", s.tries[i].sampler, s.tries[i].via,
			       s.tries[i].err ? s.tries[i].why : "ok");
		printf("\nchosen: heat %s%s%s, migrations %s, nvme %s\n",
		       s.heat_via ? s.heat_via : "none", s.heat2_via ? " + " : "", s.heat2_via ? s.heat2_via : "",
		       s.mig_via ? s.mig_via : "none", s.nvme_via ? s.nvme_via : "none");
	}
	samplers_stop(&s);
	return 0;
}
