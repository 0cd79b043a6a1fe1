// Passwords: argon2id hashing (libsodium crypto_pwhash_str), verification, the sign-up policy
// and generated passwords.
//
// Cost: OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE (t=2, 64 MiB). libsodium's MODERATE
// (t=3, 256 MiB) takes ~0.7 s of one core per hash: on the 2-core machines Kiln targets, a
// handful of concurrent logins would stall the server and 256 MiB per login invites memory
// exhaustion. INTERACTIVE costs ~60-100 ms and 64 MiB, which is libsodium's own recommendation
// for online logins; hashes made with other parameters still verify and PasswordNeedsRehash()
// tells the login handler to upgrade them.
//
// All functions are thread-safe. Hashing and verifying allocate `memlimit` bytes for the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/base/status.h"

namespace kiln::auth {

// argon2id cost parameters.
struct PasswordCost {
  uint64_t opslimit;
  size_t memlimit;  // bytes
};

// The production cost (see the header comment): t=2, 64 MiB.
inline constexpr PasswordCost kInteractivePasswordCost{2, 64u << 20};
// The cheapest cost libsodium accepts (t=1, 8 KiB): tests only, never for stored passwords.
inline constexpr PasswordCost kTestingPasswordCost{1, 8u << 10};

// Hashes `password` into a self-describing "$argon2id$v=19$m=...,t=...,p=1$salt$hash" string
// with a fresh random salt. Fails with InvalidArgument (field "password") when the password is
// longer than libsodium allows, or Internal when the memory for the hash cannot be allocated.
// The policy (CheckPasswordPolicy) is not applied here.
Result<std::string> HashPassword(std::string_view password,
                                 PasswordCost cost = kInteractivePasswordCost);

// True only when `stored_hash` is a well-formed argon2 hash string of `password`. Any malformed,
// truncated or empty hash yields false (never a crash).
bool VerifyPassword(std::string_view stored_hash, std::string_view password);

// Costs the same as a VerifyPassword of a production hash and always returns false. Call it when
// the account does not exist or is disabled, so that the response time does not reveal which
// emails have accounts.
bool VerifyPasswordDummy(std::string_view password = {});

// The hash VerifyPasswordDummy checks against (exposed so tests can assert that its cost is the
// production cost).
std::string_view DummyPasswordHash();

// True when `stored_hash` was made with parameters other than `cost` (or another algorithm) and
// should be replaced by HashPassword() after a successful login. A malformed hash needs rehash.
bool PasswordNeedsRehash(std::string_view stored_hash,
                         PasswordCost cost = kInteractivePasswordCost);

// The password policy for new passwords. OK when `password` is valid UTF-8, has at least 10
// characters (code points), at most 1024 bytes, and is not one character repeated. Otherwise
// InvalidArgument with field "password" and a message fit to show the user.
Status CheckPasswordPolicy(std::string_view password);

// A random 20-character password from a readable alphabet (no 0/O/o, 1/l/I lookalikes), about
// 116 bits of entropy; always satisfies CheckPasswordPolicy. For `kiln user create` without stdin.
std::string GeneratePassword();

}  // namespace kiln::auth
