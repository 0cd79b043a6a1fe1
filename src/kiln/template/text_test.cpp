#include "kiln/template/text.h"

#include <gtest/gtest.h>

#include <string>

namespace kiln::tmpl {
namespace {

std::string Up(std::string_view s) {
  std::string out;
  AppendUpcase(s, &out);
  return out;
}
std::string Down(std::string_view s) {
  std::string out;
  AppendDowncase(s, &out);
  return out;
}
std::string Cap(std::string_view s) {
  std::string out;
  AppendCapitalize(s, &out);
  return out;
}
std::string Trunc(std::string_view s, size_t n, std::string_view e = "...") {
  std::string out;
  AppendTruncate(s, n, e, &out);
  return out;
}

TEST(TextTest, CaseMappingAsciiAndEuropeanScripts) {
  EXPECT_EQ(Up("hello, World 42"), "HELLO, WORLD 42");
  EXPECT_EQ(Down("HELLO, World 42"), "hello, world 42");
  EXPECT_EQ(Up("élodie müller"), "ÉLODIE MÜLLER");
  EXPECT_EQ(Down("ÉLODIE MÜLLER"), "élodie müller");
  EXPECT_EQ(Up("straße"), "STRASSE");
  EXPECT_EQ(Up("łukasz żółć"), "ŁUKASZ ŻÓŁĆ");  // Latin Extended-A, both pairings
  EXPECT_EQ(Down("ŁUKASZ ŻÓŁĆ"), "łukasz żółć");
  EXPECT_EQ(Up("čeněk"), "ČENĚK");
  EXPECT_EQ(Up("ÿ"), "Ÿ");
  EXPECT_EQ(Down("Ÿ"), "ÿ");
  EXPECT_EQ(Up("ωμέγα"), "ΩΜΈΓΑ");
  // No context-dependent final sigma, as in Ruby's (and so Liquid's) downcase.
  EXPECT_EQ(Down("ΟΔΥΣΣΕΑΣ"), "οδυσσεασ");
  EXPECT_EQ(Up("дмитрий ёж"), "ДМИТРИЙ ЁЖ");
  EXPECT_EQ(Down("ДМИТРИЙ ЁЖ"), "дмитрий ёж");
  EXPECT_EQ(Up("日本 ✓"), "日本 ✓");  // no case: unchanged
  EXPECT_EQ(Up("×÷"), "×÷");          // Latin-1 symbols are not letters
}

TEST(TextTest, CapitalizeIsRubyCapitalize) {
  EXPECT_EQ(Cap("mcDONALD"), "Mcdonald");
  EXPECT_EQ(Cap("élodie"), "Élodie");
  EXPECT_EQ(Cap("ß"), "Ss");
  EXPECT_EQ(Cap(""), "");
  EXPECT_EQ(Cap("1st place"), "1st place");
}

TEST(TextTest, InvalidBytesPassThroughUnchanged) {
  const std::string bad = "a\xC3(b\xFF\xE2\x82";
  EXPECT_EQ(Up(bad), "A\xC3(B\xFF\xE2\x82");
  EXPECT_EQ(CodePointCount(bad), 7u);
  EXPECT_EQ(FindInvalidUtf8(bad), 1u);
  EXPECT_EQ(FindInvalidUtf8("ok é ✓ 😀"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("\xC0\x80"), 0u);          // overlong NUL
  EXPECT_EQ(FindInvalidUtf8("x\xED\xA0\x80"), 1u);     // surrogate
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
}

TEST(TextTest, TruncateCountsCodePointsLikeLiquid) {
  EXPECT_EQ(Trunc("Ground control to Major Tom.", 20), "Ground control to...");
  EXPECT_EQ(Trunc("Ground control to Major Tom.", 25, ", and so on"), "Ground control, and so on");
  EXPECT_EQ(Trunc("Ground control to Major Tom.", 20, ""), "Ground control to Ma");
  EXPECT_EQ(Trunc("short", 5), "short");
  EXPECT_EQ(Trunc("short!", 5), "sh...");
  EXPECT_EQ(Trunc("abcdef", 2), "...");  // ellipsis longer than the length: Liquid keeps it
  // Five characters, ten bytes: no cut inside a sequence, counts characters not bytes.
  EXPECT_EQ(Trunc("ééééé", 5), "ééééé");
  EXPECT_EQ(Trunc("éééééé", 5), "éé...");
  EXPECT_EQ(Trunc("😀😀😀😀", 3, "…"), "😀😀…");
  EXPECT_EQ(Trunc("日本語のテキスト", 4, ""), "日本語の");
  EXPECT_EQ(CodePointPrefix("aé😀b", 3), "aé😀");
  EXPECT_EQ(CodePointPrefix("aé", 10), "aé");
}

TEST(TextTest, EscapingAndEncoding) {
  std::string out;
  AppendHtmlEscaped("<a href=\"x\">Tom & Jerry's</a>", &out);
  EXPECT_EQ(out, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  out.clear();
  AppendUrlEncoded("John Smith & co/é*~._-", &out);
  EXPECT_EQ(out, "John+Smith+%26+co%2F%C3%A9%2A~._-");
}

TEST(TextTest, StripAndWords) {
  EXPECT_EQ(Strip(" \t\n hi there \r\n"), "hi there");
  EXPECT_EQ(LeftStrip("  a "), "a ");
  EXPECT_EQ(RightStrip("  a "), "  a");
  EXPECT_EQ(Strip(" \t "), "");
  EXPECT_EQ(FirstWord("  Mary Ann Smith "), "Mary");
  EXPECT_EQ(LastWord("  Mary Ann Smith "), "Smith");
  EXPECT_EQ(FirstWord("Cher"), "Cher");
  EXPECT_EQ(LastWord(""), "");
  EXPECT_EQ(FirstWord("   "), "");
}

}  // namespace
}  // namespace kiln::tmpl
