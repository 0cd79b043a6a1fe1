#include "kiln/mail/classify_complaint.h"

namespace kiln::mail {
namespace {

std::string TrimmedAddress(std::string v) {
  std::string out = NormalizeMessageId(v);  // strips whitespace and one pair of <>
  return out;
}

}  // namespace

std::optional<ComplaintInfo> DetectComplaint(const IncomingMessage& msg) {
  const IncomingPart* report = nullptr;
  for (const auto& p : msg.parts) {
    if (p.content_type == "message/feedback-report") {
      report = &p;
      break;
    }
  }
  if (!report) return std::nullopt;
  if (msg.report_type != "feedback-report" && msg.content_type == "multipart/report") {
    return std::nullopt;  // a delivery report that happens to attach a feedback report
  }
  HeaderMap f = ParseHeaderBlock(report->text, false, 200);
  auto type = FirstHeader(f, "Feedback-Type");
  if (!type) return std::nullopt;
  ComplaintInfo info;
  info.feedback_type = AsciiLower(NormalizeMessageId(*type));
  info.user_agent = FirstHeader(f, "User-Agent").value_or("");
  info.original_recipient = TrimmedAddress(FirstHeader(f, "Original-Rcpt-To").value_or(""));
  info.original_mail_from = TrimmedAddress(FirstHeader(f, "Original-Mail-From").value_or(""));
  info.reported_domain = FirstHeader(f, "Reported-Domain").value_or("");
  info.source_ip = FirstHeader(f, "Source-IP").value_or("");
  for (const auto& p : msg.parts) {
    if (p.content_type != "message/rfc822" && p.content_type != "text/rfc822-headers" &&
        p.content_type != "message/global" && p.content_type != "message/global-headers") {
      continue;
    }
    HeaderMap h = ParseHeaderBlock(p.text, true, 500);
    if (auto id = FirstHeader(h, "Message-ID")) info.original_message_id = NormalizeMessageId(*id);
    if (info.original_recipient.empty()) {
      if (auto to = FirstHeader(h, "To")) {
        const size_t lt = to->find('<');
        const size_t gt = to->find('>', lt == std::string::npos ? 0 : lt);
        info.original_recipient = lt != std::string::npos && gt != std::string::npos
                                      ? to->substr(lt + 1, gt - lt - 1)
                                      : NormalizeMessageId(*to);
      }
    }
    break;
  }
  return info;
}

}  // namespace kiln::mail
