#include "kiln/base/utf8.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(Utf8Test, AcceptsWellFormedAndRejectsTheRest) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x94\xa5"));  // ü € 🔥
  EXPECT_FALSE(IsValidUtf8("\x80"));                                        // stray continuation
  EXPECT_FALSE(IsValidUtf8("\xc3"));                                        // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));                                    // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));                                // overlong, 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));                                // UTF-16 surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));                            // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

}  // namespace
}  // namespace kiln
