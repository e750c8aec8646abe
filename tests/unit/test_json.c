// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON writer (loader/json.c): strings escaped per RFC 8259 (quote,
 * backslash, every control character), UTF-8 passed through and invalid
 * bytes replaced, commas and nesting, numbers, bools and null; and
 * `tierd status --json` with a quote, a backslash and a newline in the
 * strings it prints (VM cgroup, RAM note, last adjustment), read back by jq
 * where jq is installed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine.h"
#include "json.h"
#include "log.h"
#include "check.h"

static char *buf;
static size_t len;

static FILE *mem(void)
{
	free(buf);
	buf = NULL;
	return open_memstream(&buf, &len);
}

/* s escaped as a JSON string */
static const char *esc(const char *s)
{
	FILE *f = mem();

	json_escape(f, s);
	fclose(f);
	return buf;
}

#define ESC(in, want) CHECK(!strcmp(esc(in), want), "%s: got %s, want %s", #in, buf, want)

static void test_escape(void)
{
	ESC("plain", "\"plain\"");
	ESC("", "\"\"");
	ESC("say \"hi\"", "\"say \\\"hi\\\"\"");
	ESC("C:\\dir\\", "\"C:\\\\dir\\\\\"");
	ESC("a\nb\tc\rd\be\ff", "\"a\\nb\\tc\\rd\\be\\ff\"");
	ESC("\x01\x1f", "\"\\u0001\\u001f\"");
	ESC("del\x7f", "\"del\x7f\"");			/* not a control character in JSON */
	ESC("/slash", "\"/slash\"");
	/* UTF-8 as it is: 2, 3 and 4 bytes */
	ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	ESC("\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"");	/* U+FFFF, U+10FFFF */
	/* not UTF-8: each bad byte becomes U+FFFD, the rest goes on */
	ESC("\xff", "\"\\ufffd\"");
	ESC("a\x80z", "\"a\\ufffdz\"");
	ESC("\xc0\xaf", "\"\\ufffd\\ufffd\"");		/* overlong '/' */
	ESC("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");	/* a surrogate */
	ESC("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");	/* past U+10FFFF */
	ESC("\xe2\x82", "\"\\ufffd\\ufffd\"");		/* cut short at the end */
	ESC("\xe2\x82x", "\"\\ufffd\\ufffdx\"");
}

static void test_structure(void)
{
	struct json j;
	FILE *f = mem();
	int r;

	json_start(&j, f);
	json_obj(&j);
	json_kstr(&j, "s", "v");
	json_kstr(&j, "none", NULL);
	json_ku64(&j, "u", 18446744073709551615ULL);
	json_ki64(&j, "i", -42);
	json_knum(&j, "f", 2, 1.005);
	json_knum(&j, "r", 0, 2.5);
	json_knum(&j, "nan", 1, NAN);
	json_knum(&j, "inf", 1, INFINITY);
	json_kbool(&j, "t", true);
	json_kbool(&j, "b", false);
	json_karr(&j, "a");
	json_u64(&j, 1);
	json_obj(&j);
	json_end(&j);
	json_arr(&j);
	json_end(&j);
	json_str(&j, "x");
	json_null(&j);
	json_end(&j);
	json_kobj(&j, "o");
	json_key(&j, "k\"ey");
	json_strf(&j, "0x%llx", 255ULL);
	json_end(&j);
	json_end(&j);
	r = json_finish(&j);
	fclose(f);
	CHECK(r == 0, "a well-nested document: json_finish %d", r);
	const char *want = "{\"s\":\"v\",\"none\":null,\"u\":18446744073709551615,\"i\":-42,\"f\":1.00,"
			   "\"r\":2,\"nan\":null,\"inf\":null,\"t\":true,\"b\":false,"
			   "\"a\":[1,{},[],\"x\",null],\"o\":{\"k\\\"ey\":\"0xff\"}}\n";
	CHECK(!strcmp(buf, want), "got  %s     want %s", buf, want);

	/* mistakes are reported, not hidden */
	f = mem();
	json_start(&j, f);
	json_obj(&j);
	json_end(&j);
	json_end(&j);
	CHECK(json_finish(&j) == -1, "one end too many");
	json_start(&j, f);
	json_obj(&j);
	CHECK(json_finish(&j) == -1, "an object left open");
	json_start(&j, f);
	json_obj(&j);
	json_u64(&j, 1);
	json_end(&j);
	CHECK(json_finish(&j) == -1, "a value without a key in an object");
	json_start(&j, f);
	json_arr(&j);
	json_key(&j, "k");
	json_u64(&j, 1);
	json_end(&j);
	CHECK(json_finish(&j) == -1, "a key in an array");
	fclose(f);

	/* a long formatted string is not cut */
	char big[1000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	f = mem();
	json_start(&j, f);
	json_strf(&j, "%s!", big);
	json_finish(&j);
	fclose(f);
	CHECK(len == sizeof(big) + 3 && buf[len - 3] == '!', "json_strf of %zu bytes: %zu written", sizeof(big), len);
}

/* engine_status on a simulated VM whose strings need escaping */
static void test_status(void)
{
	static struct engine e;
	struct policy p;
	const char *reason = "moved the \"hot\" set\\back\nthen\x01 stopped, caf\xc3\xa9";
	FILE *f;

	engine_sim_start(&e);
	policy_default(&p);
	p.vmid = 101;
	CHECK(!engine_sim_vm(&e, &p, 64ULL << 20, 0.5), "a simulated VM");
	if (!e.nvm)
		return;
	snprintf(e.vm[0]->adjust, sizeof(e.vm[0]->adjust), "%s", reason);
	snprintf(e.vm[0]->vm.note, sizeof(e.vm[0]->vm.note), "vram \"qxl\" taken");
	snprintf(e.vm[0]->vm.scope, sizeof(e.vm[0]->vm.scope), "/qemu.slice/101\".scope");
	snprintf(e.topo.how, sizeof(e.topo.how), "sim\\");
	f = mem();
	engine_status(&e, f, true);
	fclose(f);
	engine_sim_stop(&e);
	CHECK(strstr(buf, "\"reason\":\"moved the \\\"hot\\\" set\\\\back\\nthen\\u0001 stopped, caf\xc3\xa9\""),
	      "reason not escaped: %s", buf);
	CHECK(strstr(buf, "\"ram_note\":\"vram \\\"qxl\\\" taken\""), "ram_note not escaped");
	CHECK(strstr(buf, "\"cgroup\":\"/qemu.slice/101\\\".scope\""), "cgroup not escaped");
	CHECK(strstr(buf, "\"topology\":\"sim\\\\\""), "topology not escaped");

	/* jq reads the document and gets the strings back as they were */
	if (system("jq --version >/dev/null 2>&1")) {
		printf("# jq not installed: the status document was not parsed\n");
		return;
	}
	char path[] = "/tmp/tierd-test-json-XXXXXX", cmd[200], got[512] = "";
	int fd = mkstemp(path);
	FILE *out;

	CHECK(fd >= 0, "mkstemp");
	if (fd < 0)
		return;
	out = fdopen(fd, "w");
	fputs(buf, out);
	fclose(out);
	snprintf(cmd, sizeof(cmd), "jq -j '.vms[0].last_adjustment.reason' %s", path);
	FILE *jq = popen(cmd, "r");
	size_t n = jq ? fread(got, 1, sizeof(got) - 1, jq) : 0;
	int rc = jq ? pclose(jq) : -1;

	got[n] = 0;
	CHECK(rc == 0, "jq could not read tierd status --json: %s", buf);
	CHECK(!strcmp(got, reason), "jq read the reason back as '%s'", got);
	snprintf(cmd, sizeof(cmd), "jq -e '.vms[0].cgroup == \"/qemu.slice/101\\\".scope\"' %s >/dev/null", path);
	CHECK(system(cmd) == 0, "jq read the cgroup back wrong");
	unlink(path);
}

int main(void)
{
	log_init(LOG_ERR);
	test_escape();
	test_structure();
	test_status();
	free(buf);
	printf("%d checks passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
