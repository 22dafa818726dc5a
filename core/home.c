/* home.c - index home layout: CURRENT names the live generation directory. */
#include "home.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema.h"

#define FIRST_GENERATION "xapian-1"

const char *carnet_home__resolve(const char *home)
{
	if (home && *home)
		return home;
	const char *env = getenv("CARNET_INDEX");
	return env && *env ? env : "carnet.idx";
}

int carnet_home__path(char *out, size_t size, const char *home,
		      const char *name, carnet_error *err)
{
	int n = snprintf(out, size, "%s/%s", home, name);
	if (n < 0 || (size_t)n >= size)
		return carnet_error__set(err, CARNET_E_INVALID,
					 CARNET_ORIGIN_CARNET, 0,
					 "index path too long: %s", home);
	return CARNET_OK;
}

/* Is name a safe generation directory name (no path separators)? */
static int valid_generation(const char *name)
{
	if (!*name || name[0] == '.')
		return 0;
	for (const char *p = name; *p; p++)
		if (!(*p == '-' || *p == '_' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return 0;
	return 1;
}

int carnet_home__current_db(char *out, size_t size, const char *home,
			    carnet_error *err)
{
	char cur[CARNET_PATH_MAX];
	int rc = carnet_home__path(cur, sizeof cur, home, CARNET_CURRENT_FILE, err);
	if (rc)
		return rc;
	FILE *f = fopen(cur, "r");
	if (!f) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return carnet_error__set(err, CARNET_E_NOTFOUND,
						 CARNET_ORIGIN_CARNET, e,
						 "no carnet index at %s", home);
		return carnet_error__os(err, CARNET_E_IO, e, "cannot read %s", cur);
	}
	char gen[256] = "";
	if (!fgets(gen, sizeof gen, f))
		gen[0] = '\0';
	fclose(f);
	gen[strcspn(gen, "\r\n")] = '\0';
	if (!valid_generation(gen))
		return carnet_error__set(err, CARNET_E_CORRUPT,
					 CARNET_ORIGIN_CARNET, 0,
					 "%s does not name a valid generation", cur);
	return carnet_home__path(out, size, home, gen, err);
}

int carnet_home__create(const char *home, carnet_error *err)
{
	if (mkdir(home, 0700) != 0 && errno != EEXIST) {
		int e = errno;
		return carnet_error__os(err, carnet_error__from_errno(e), e,
					"cannot create index home %s", home);
	}
	struct stat st;
	if (stat(home, &st) != 0 || !S_ISDIR(st.st_mode))
		return carnet_error__set(err, CARNET_E_IO, CARNET_ORIGIN_CARNET,
					 0, "index home %s is not a directory",
					 home);
	char cur[CARNET_PATH_MAX], tmp[CARNET_PATH_MAX];
	int rc = carnet_home__path(cur, sizeof cur, home, CARNET_CURRENT_FILE, err);
	if (rc)
		return rc;
	if (access(cur, F_OK) == 0)
		return CARNET_OK;
	rc = carnet_home__path(tmp, sizeof tmp, home, CARNET_CURRENT_FILE ".tmp", err);
	if (rc)
		return rc;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return carnet_error__os(err, CARNET_E_IO, errno,
					"cannot write %s", tmp);
	int ok = fprintf(f, "%s\n", FIRST_GENERATION) > 0;
	ok = fflush(f) == 0 && ok;
	ok = fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, cur) != 0) {
		int e = errno;
		unlink(tmp);
		return carnet_error__os(err, CARNET_E_IO, e, "cannot write %s", cur);
	}
	return CARNET_OK;
}
