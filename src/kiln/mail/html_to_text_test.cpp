#include "kiln/mail/html_to_text.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>

namespace kiln::mail {
namespace {

TEST(HtmlToTextTest, ParagraphsAndBreaks) {
  EXPECT_EQ(HtmlToText("<p>Hello   there,</p><p>second\nparagraph<br>next line</p>"),
            "Hello there,\n\nsecond paragraph\nnext line\n");
}

TEST(HtmlToTextTest, DivsAreLinesHeadingsAreBlocks) {
  EXPECT_EQ(HtmlToText("<h1>Title</h1><div>one</div><div>two</div>"), "Title\n\none\ntwo\n");
}

TEST(HtmlToTextTest, LinksShowTheirUrl) {
  EXPECT_EQ(HtmlToText("See <a href=\"https://x.test/a?b=1&amp;c=2\">our site</a>."),
            "See our site (https://x.test/a?b=1&c=2).\n");
  // Text that is the URL is not repeated; mailto: shows the address once.
  EXPECT_EQ(HtmlToText("<a href='https://x.test/'>https://x.test/</a>"), "https://x.test/\n");
  EXPECT_EQ(HtmlToText("<a href=\"mailto:a@b.test\">a@b.test</a>"), "a@b.test\n");
  // In-page and script links keep only the text; an empty link shows the URL.
  EXPECT_EQ(HtmlToText("<a href=\"#top\">Top</a> <a href=\"javascript:x()\">Go</a>"), "Top Go\n");
  EXPECT_EQ(HtmlToText("<a href=\"https://x.test/\"><img src=x></a>"), "https://x.test/\n");
}

TEST(HtmlToTextTest, EntitiesDecoded) {
  EXPECT_EQ(HtmlToText("caf&eacute; &amp; cr&#232;me &#x1F600; &lt;b&gt; &quot;q&quot; &nbsp;x "
                       "&unknown; &amp"),
            "caf\xC3\xA9 & cr\xC3\xA8me \xF0\x9F\x98\x80 <b> \"q\" x &unknown; &\n");
  EXPECT_EQ(HtmlToText("&#0;&#xD800;&#99999999;"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\n");
  EXPECT_EQ(HtmlToText("&#150;&rsquo;"), "\xE2\x80\x93\xE2\x80\x99\n");
}

TEST(HtmlToTextTest, ScriptsStylesHeadCommentsDropped) {
  EXPECT_EQ(HtmlToText("<html><head><title>T</title><style>p{color:red}</style></head>"
                       "<body><!-- hidden <p>x</p> --><script>if (a < b) alert('</p>')</script>"
                       "<p>visible</p><SCRIPT type=x>no</SCRIPT></body></html>"),
            "visible\n");
}

TEST(HtmlToTextTest, Lists) {
  EXPECT_EQ(HtmlToText("<p>Intro</p><ul><li>one</li><li>two<ol><li>a</li><li>b</li></ol></li>"
                       "</ul><p>End</p>"),
            "Intro\n\n- one\n- two\n  1. a\n  2. b\n\nEnd\n");
}

TEST(HtmlToTextTest, WrapsAtWordBoundariesWithHangingIndent) {
  const std::string words =
      "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho";
  EXPECT_EQ(HtmlToText("<p>" + words + "</p>", {.width = 30}),
            "alpha beta gamma delta epsilon\nzeta eta theta iota kappa\nlambda mu nu xi omicron "
            "pi rho\n");
  EXPECT_EQ(HtmlToText("<ul><li>" + words + "</li></ul>", {.width = 30}),
            "- alpha beta gamma delta\n  epsilon zeta eta theta iota\n  kappa lambda mu nu xi\n"
            "  omicron pi rho\n");
  // A word longer than the width stays whole on its own line.
  const std::string url = "https://example.test/" + std::string(100, 'x');
  EXPECT_EQ(HtmlToText("go to " + url + " now", {.width = 30}), "go to\n" + url + "\nnow\n");
  // Width counts code points, not bytes.
  EXPECT_EQ(HtmlToText("\xC3\xA9\xC3\xA9\xC3\xA9 \xC3\xA9\xC3\xA9", {.width = 6}),
            "\xC3\xA9\xC3\xA9\xC3\xA9 \xC3\xA9\xC3\xA9\n");
}

TEST(HtmlToTextTest, AsciiAndNonAsciiTextWrapAlike) {
  // Single-spaced ASCII lines take a faster path than text with other code points; "é" is one
  // column like "e", so both must break at the same places.
  std::mt19937 rng(76);
  for (int round = 0; round < 300; ++round) {
    std::string ascii;
    std::string accented;
    const int words = static_cast<int>(rng() % 60);
    for (int w = 0; w < words; ++w) {
      const size_t length = 1 + rng() % (w % 7 == 0 ? 40 : 9);
      if (w > 0) {
        ascii += ' ';
        accented += ' ';
      }
      ascii += std::string(length, 'e');
      accented += "\xC3\xA9" + std::string(length - 1, 'e');
    }
    for (int width : {1, 8, 30, 76}) {
      std::string expected = HtmlToText("<li>" + accented + "</li>", {.width = width});
      for (size_t at = expected.find("\xC3\xA9"); at != std::string::npos;
           at = expected.find("\xC3\xA9", at)) {
        expected.replace(at, 2, "e");
      }
      ASSERT_EQ(HtmlToText("<li>" + ascii + "</li>", {.width = width}), expected)
          << "width " << width << ": " << ascii;
    }
  }
}

TEST(HtmlToTextTest, PreKeepsWhitespaceAndLines) {
  EXPECT_EQ(HtmlToText("<p>a</p><pre>  x  =  1\n  y</pre><p>b</p>"), "a\n\n  x  =  1\n  y\n\nb\n");
}

TEST(HtmlToTextTest, BlockquoteTablesImages) {
  EXPECT_EQ(HtmlToText("<blockquote><p>quoted text</p></blockquote>"), "> quoted text\n");
  EXPECT_EQ(HtmlToText("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"),
            "a b\nc\n");
  EXPECT_EQ(HtmlToText("<p>Hi <img src=\"logo.png\" alt=\"Acme &amp; Co\"> there</p>"),
            "Hi Acme & Co there\n");
  EXPECT_EQ(HtmlToText("<p>a</p><hr><p>b</p>"), "a\n\n----\n\nb\n");
}

TEST(HtmlToTextTest, MalformedMarkupIsReadLeniently) {
  EXPECT_EQ(HtmlToText("a < b and c > d"), "a < b and c > d\n");
  EXPECT_EQ(HtmlToText("<p>unclosed <b>bold"), "unclosed bold\n");
  EXPECT_EQ(HtmlToText("text <a href=\"x"), "text\n");
  EXPECT_EQ(HtmlToText("<!-- never closed"), "");
  EXPECT_EQ(HtmlToText(""), "");
  EXPECT_EQ(HtmlToText("   \n "), "");
  // Names that only start like a known element are other elements.
  constexpr char kNearNames[] = "a<hr\0>b<pp>c<BR\0\0/>d";
  EXPECT_EQ(HtmlToText(std::string_view(kNearNames, sizeof kNearNames - 1)), "abcd\n");
}

// Found by fuzz/fuzz_text: a CR in an href reached the text, where it breaks the line (and the
// link) in the text/plain part. Browsers drop tabs and newlines from URLs; so does the text.
TEST(HtmlToTextTest, TabsAndNewlinesInsideHrefAreDropped) {
  EXPECT_EQ(HtmlToText("<a href=\"https://x.test/a\r\nb\tc&#13;d\">go</a>"),
            "go (https://x.test/abcd)\n");
  EXPECT_EQ(HtmlToText("<a href=\"java\nscript:alert(1)\">go</a>"), "go\n");
}

TEST(HtmlToTextTest, LargeInputIsLinear) {
  std::ostringstream html;
  for (int i = 0; i < 20000; ++i)
    html << "<p>Paragraph " << i << " with <a href=\"https://x.test/" << i << "\">a link</a></p>";
  const std::string text = HtmlToText(html.str());
  EXPECT_NE(text.find("Paragraph 19999 with a link (https://x.test/19999)"), std::string::npos);
}

}  // namespace
}  // namespace kiln::mail
