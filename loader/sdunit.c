// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgroup attributes through systemd: see sdunit.h. sd-bus (libsystemd) is
 * the client: libsystemd0 is on every systemd host already, and its
 * private socket to PID 1 (/run/systemd/private, root only, as systemctl
 * uses) needs no dbus-daemon, so it works from early boot on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include "log.h"
#include "sdunit.h"
#include "util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MGR "org.freedesktop.systemd1.Manager"

/* cgroup files systemd knows as a unit property (type t, "max" = infinity) */
static const struct {
	const char *file, *property;
} props[] = {
	{ "memory.low", "MemoryLow" },
};

static sd_bus *bus;
static bool bus_failed;

static sd_bus *get_bus(void)
{
	int r;

	if (bus || bus_failed)
		return bus;
	if ((r = sd_bus_new(&bus)) >= 0 &&
	    (r = sd_bus_set_address(bus, "unix:path=/run/systemd/private")) >= 0 &&
	    (r = sd_bus_start(bus)) >= 0)
		goto ok;
	sd_bus_unref(bus);
	bus = NULL;
	if ((r = sd_bus_open_system(&bus)) >= 0)
		goto ok;
	warn("systemd runs this host but tierd cannot reach it (%s): cgroup knobs of its units are written directly",
	     strerror(-r));
	bus_failed = true;
	bus = NULL;
	return NULL;
ok:
	sd_bus_set_method_call_timeout(bus, 5 * 1000000ULL);
	return bus;
}

void sdunit_close(void)
{
	bus = sd_bus_flush_close_unref(bus);
}

/* The unit whose cgroup is `dir`, if systemd manages one; 0 or -errno. */
static int unit_of(const char *dir, char *unit, size_t size)
{
	const char *root = cgroup2_mount(), *name = strrchr(dir, '/'), *dot, *iface;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	char *obj = NULL, *cg = NULL;
	size_t rl;
	int r;

	if (!root || !name || !(dot = strrchr(name, '.')))
		return -EOPNOTSUPP;
	if (!strcmp(dot, ".scope"))
		iface = SD_DEST ".Scope";
	else if (!strcmp(dot, ".slice"))
		iface = SD_DEST ".Slice";
	else if (!strcmp(dot, ".service"))
		iface = SD_DEST ".Service";
	else
		return -EOPNOTSUPP;
	rl = strlen(root);
	if (strncmp(dir, root, rl) || dir[rl] != '/')
		return -EOPNOTSUPP;
	snprintf(unit, size, "%s", name + 1);
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MGR, "GetUnit", &e, &m, "s", unit);
	if (r >= 0)
		r = sd_bus_message_read(m, "o", &obj);
	if (r >= 0 && (obj = strdup(obj)))
		r = sd_bus_get_property_string(bus, SD_DEST, obj, iface, "ControlGroup", &e, &cg);
	/* a folder of that name systemd did not make is not its unit */
	if (r >= 0 && (!cg || strcmp(cg, dir + rl)))
		r = -EOPNOTSUPP;
	else if (r < 0)
		r = -EOPNOTSUPP;	/* no such unit: not systemd's */
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	free(obj);
	free(cg);
	return r;
}

int sdunit_set_cgroup(const char *path, const char *value)
{
	const char *file = strrchr(path, '/'), *prop = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char dir[600], unit[256], *end;
	uint64_t v;
	int r;

	if (!file)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
		if (!strcmp(file + 1, props[i].file))
			prop = props[i].property;
	if (!prop || access("/run/systemd/system", F_OK) || !get_bus())
		return -EOPNOTSUPP;
	if (!strncmp(value, "max", 3))
		v = UINT64_MAX;
	else if (!(v = strtoull(value, &end, 10), end != value))
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%.*s", (int)(file - path), path);
	if ((r = unit_of(dir, unit, sizeof(unit))))
		return r;
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MGR, "SetUnitProperties", &e, NULL,
			       "sba(sv)", unit, 1, 1, prop, "t", v);
	if (r < 0) {
		warn("systemd refused %s=%s on %s: %s", prop, value, unit, e.message ? e.message : strerror(-r));
		sd_bus_error_free(&e);
		return r;
	}
	dbg("%s: %s=%s through systemd (runtime)", unit, prop, value);
	/* systemd writes the file from its event loop, just after replying:
	 * wait a moment so that a read right after this one sees it */
	for (int i = 0; i < 50; i++) {
		char cur[64];
		if (read_file(path, cur, sizeof(cur)) > 0 &&
		    (v == UINT64_MAX ? !strncmp(cur, "max", 3) : strtoull(cur, NULL, 10) == v))
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	return 0;
}
