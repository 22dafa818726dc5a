// SPDX-License-Identifier: GPL-2.0-or-later
// nomem_new.cc - test_nomem's operator new for the shim: the shim's calls
// to operator new (linked with -Wl,--wrap=_Znwm) are counted with carnet's
// malloc calls, and the one chosen throws std::bad_alloc, as the real one
// does when memory runs out. Xapian's own calls are not wrapped.
#include <cstddef>
#include <new>

extern "C" {
int carnet_nomem__fail_now(void);
void *__real__Znwm(std::size_t size);
void *__wrap__Znwm(std::size_t size);
}

void *__wrap__Znwm(std::size_t size)
{
	if (carnet_nomem__fail_now())
		throw std::bad_alloc();
	return __real__Znwm(size);
}
