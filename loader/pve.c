// SPDX-License-Identifier: GPL-2.0-only
/*
 * Proxmox's files, as tierd reads them: see pve.h. A VM's config is
 * "key: value" lines, the current config first, then one "[snapshot]"
 * section per snapshot (not read).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pve.h"
#include "util.h"

/* The VM's Proxmox config on this node, or NULL (static buffer). */
static char *vm_conf(const char *pve_dir, long vmid, bool *dir_exists)
{
	static char buf[65536];
	char path[400];
	struct stat st;

	snprintf(path, sizeof(path), "%s/qemu-server", pve_dir);
	*dir_exists = !stat(path, &st) && S_ISDIR(st.st_mode);
	snprintf(path, sizeof(path), "%s/qemu-server/%ld.conf", pve_dir, vmid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return NULL;
	char *snap = strstr(buf, "\n[");		/* snapshots follow the current config */
	if (snap)
		snap[1] = 0;
	return buf;
}

/* The value of "key: value" in a VM config, or NULL (points into buf). */
static char *conf_value(char *buf, const char *key)
{
	size_t kl = strlen(key);

	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, kl) && l[kl] == ':') {
			char *v = l + kl + 1;
			while (*v == ' ')
				v++;
			return v;
		}
	return NULL;
}

enum tag_switch pve_tags(const char *pve_dir, long vmid)
{
	bool dir;
	char *buf = vm_conf(pve_dir, vmid, &dir), *tags;
	enum tag_switch sw = TAGS_NONE;

	if (!buf || !(tags = conf_value(buf, "tags")))
		return TAGS_NONE;
	tags[strcspn(tags, "\n")] = 0;
	/* Proxmox splits tags on ';', ',' and spaces */
	for (char *save = NULL, *t = strtok_r(tags, ";, ", &save); t; t = strtok_r(NULL, ";, ", &save)) {
		if (!strcasecmp(t, "tierd.off"))
			return TAGS_OFF;
		if (!strcasecmp(t, "tierd.pin-hot"))
			sw = TAGS_PIN_HOT;
		else if (!strcasecmp(t, "tierd") && sw == TAGS_NONE)
			sw = TAGS_ON;
	}
	return sw;
}

bool pve_migrating(const char *pve_dir, long vmid)
{
	bool dir;
	char *buf = vm_conf(pve_dir, vmid, &dir), *lock;

	if (!dir)
		return false;		/* no pmxcfs here */
	if (!buf)
		return true;		/* the config is still on the source node */
	/* only a migration's lock: backup, snapshot, rollback... leave guest
	 * RAM where it is, and a backup may hold its lock for hours */
	lock = conf_value(buf, "lock");
	return lock && !strncmp(lock, "migrate", 7) && (!lock[7] || isspace((unsigned char)lock[7]));
}

bool pve_mounted(const char *pve_dir)
{
	char path[300];

	snprintf(path, sizeof(path), "%.280s/.version", pve_dir);
	return !access(path, F_OK);
}
