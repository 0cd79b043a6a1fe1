#include "kiln/engine/scheduler_links.h"

#include <cctype>

#include "kiln/api/tracking_tokens.h"

namespace kiln::engine {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// The attribute value as a URL: HTML character references for '&' decoded (the only ones a
// template puts into a URL in practice); anything else with '&...;' is left as it is.
std::string DecodeAmp(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '&') {
      for (std::string_view ent : {"&amp;", "&#38;", "&#x26;"}) {
        if (v.substr(i, ent.size()) == ent) {
          out.push_back('&');
          i += ent.size() - 1;
          goto next;
        }
      }
    }
    out.push_back(v[i]);
  next:;
  }
  return out;
}

// A link as a browser follows it (the WHATWG URL parser): tabs and line breaks dropped, spaces
// and other control bytes percent-encoded. A link typed with a space in it is then tracked like
// any other, instead of a token that cannot be signed failing the whole message.
std::string AsBrowserFollows(std::string_view url) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(url.size());
  for (const char ch : url) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (c <= 0x20 || c == 0x7f) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string TrimSlash(std::string_view s) {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Result<std::string> AddTracking(std::string_view html, const LinkTracking& t) {
  std::string out;
  out.reserve(html.size() + 256);
  const std::string unsub_prefix = TrimSlash(t.base_url) + "/u/";
  int64_t link_index = 0;
  size_t pos = 0;
  while (t.clicks) {
    // The next href= (any case), outside of which the text is copied as it is.
    size_t found = std::string_view::npos;
    for (size_t i = pos; i + 5 <= html.size(); ++i) {
      if (StartsWithNoCase(html.substr(i), "href") &&
          (i == 0 || std::isspace(static_cast<unsigned char>(html[i - 1])))) {
        size_t j = i + 4;
        while (j < html.size() && std::isspace(static_cast<unsigned char>(html[j]))) ++j;
        if (j < html.size() && html[j] == '=') {
          ++j;
          while (j < html.size() && std::isspace(static_cast<unsigned char>(html[j]))) ++j;
          if (j < html.size() && (html[j] == '"' || html[j] == '\'')) {
            found = j;
            break;
          }
        }
      }
    }
    if (found == std::string_view::npos) break;
    const char quote = html[found];
    const size_t value_start = found + 1;
    const size_t value_end = html.find(quote, value_start);
    if (value_end == std::string_view::npos) break;
    out.append(html.substr(pos, value_start - pos));
    const std::string_view raw = html.substr(value_start, value_end - value_start);
    std::string url = DecodeAmp(raw);
    while (!url.empty() && std::isspace(static_cast<unsigned char>(url.front()))) url.erase(0, 1);
    while (!url.empty() && std::isspace(static_cast<unsigned char>(url.back()))) url.pop_back();
    url = AsBrowserFollows(url);
    // Something after the scheme: a bare "http://" is left as it is (it cannot be a click target).
    const bool web = (StartsWithNoCase(url, "http://") && url.size() > 7) ||
                     (StartsWithNoCase(url, "https://") && url.size() > 8);
    const bool unsubscribe = url == t.unsubscribe_url || url.rfind(unsub_prefix, 0) == 0;
    if (web && !unsubscribe && url.size() <= api::kMaxTrackedUrlLength) {
      KILN_ASSIGN_OR_RETURN(std::string click, api::ClickUrl(t.base_url, t.key, t.workspace_id,
                                                             t.message_id, link_index, url));
      out.append(click);  // base64url tokens: nothing to escape
      ++link_index;
    } else {
      out.append(raw);
    }
    pos = value_end;
  }
  out.append(html.substr(pos));
  if (t.opens) {
    KILN_ASSIGN_OR_RETURN(std::string pixel,
                          api::OpenPixelUrl(t.base_url, t.key, t.workspace_id, t.message_id));
    const std::string img =
        "<img src=\"" + pixel + "\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">";
    size_t body_end = std::string::npos;
    for (size_t i = out.size(); i-- > 0;) {
      if (out[i] == '<' && StartsWithNoCase(std::string_view(out).substr(i), "</body")) {
        body_end = i;
        break;
      }
    }
    if (body_end == std::string::npos) {
      out.append(img);
    } else {
      out.insert(body_end, img);
    }
  }
  return out;
}

std::string TrackingBaseUrl(std::string_view public_url, std::string_view campaign_domain,
                            std::string_view sender_domain) {
  const std::string_view domain = !campaign_domain.empty() ? campaign_domain : sender_domain;
  if (domain.empty()) return std::string(public_url);
  const bool plain_http = StartsWithNoCase(public_url, "http://");
  return (plain_http ? "http://" : "https://") + std::string(domain);
}

}  // namespace kiln::engine
