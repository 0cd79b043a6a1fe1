// FUZZ_CHECK: an invariant of the code under fuzzing. A violation prints the condition and
// aborts, which libFuzzer reports as a crash and saves the input. For fuzz targets only.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
