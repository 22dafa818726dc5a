/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rmtree.h - what the harnesses that build files share: remove a
 * temporary directory tree without following its symbolic links. */
#ifndef CARNET_FUZZ_RMTREE_H
#define CARNET_FUZZ_RMTREE_H

#include <ftw.h>
#include <stdio.h>

static int fuzz_rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void fuzz_rmtree(const char *dir)
{
	nftw(dir, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
