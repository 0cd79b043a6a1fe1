// Internal to kiln/auth: one-time libsodium initialisation. Thread-safe.
#pragma once

namespace kiln::auth::internal {

// Initialises libsodium exactly once (sodium_init is idempotent, the call is cached in a
// function-local static). Aborts if libsodium cannot initialise: nothing in this module is safe
// without it.
void EnsureSodium();

}  // namespace kiln::auth::internal
