// UTF-8 validation shared by every parser of outside input. Pure; thread-safe.
#pragma once

#include <string_view>

namespace kiln {

// True when `s` is well-formed UTF-8: no stray continuation bytes, no truncated sequences, no
// overlong forms, no UTF-16 surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s);

}  // namespace kiln
