/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-index-alloc.c - how carnet-index allocates: with jemalloc (linked
 * into this program only, not into libcarnet, whose users keep their own
 * allocator; not under the sanitizers, which bring theirs).
 *
 * Why: with --jobs 2 a document is built by an extraction thread (its
 * Xapian terms, values and text) and consumed and freed by a shard
 * thread. glibc's allocator gave such a run a quarter more CPU than
 * --jobs 1 (frees into another thread's arena, consolidation, the heap
 * trimmed and faulted back in), and kept 0.45 of the 2 cores idle. With
 * jemalloc the same 20,000 documents took 13-15 s instead of 18-22 s,
 * and --jobs 1 20-21 s instead of 24-26 s (bench/RESULTS.md, 2026-12-04).
 *
 * jemalloc reads its options from this symbol at its first allocation.
 * One arena: its default (four per core) let every thread keep its own
 * dirty pages, and the peak RSS of a --jobs 2 run grew from 58 to 83 MB;
 * with one arena and the threads' caches it is 59 MB, as fast. With
 * another allocator (the sanitizer builds) nothing reads it. Visible:
 * the library finds it in the program, built with hidden symbols. */
__attribute__((visibility("default"))) const char *malloc_conf = "narenas:1";
