// A prefetch hint for the Swift kernels: Clang's _mm_prefetch is a function-like macro,
// which Swift cannot import, and __builtin_prefetch has no Swift spelling.
#pragma once
/// Asks for the cache line holding p to be brought into all cache levels (prefetcht0).
static inline __attribute__((always_inline)) void lm_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
