#include "kiln/mail/classify.h"

namespace kiln::mail {

std::string_view IncomingKindName(IncomingKind kind) {
  switch (kind) {
    case IncomingKind::kComplaint:
      return "complaint";
    case IncomingKind::kBounce:
      return "bounce";
    case IncomingKind::kAutoReply:
      return "auto_reply";
    case IncomingKind::kWarmup:
      return "warmup";
    case IncomingKind::kReply:
      return "reply";
    case IncomingKind::kOther:
      return "other";
  }
  return "other";
}

Classification Classify(const IncomingMessage& msg, const OurMessageLookup& ours) {
  Classification c;
  c.complaint = DetectComplaint(msg);
  if (!c.complaint) c.bounce = DetectBounce(msg);
  if (!c.complaint && !c.bounce) c.auto_reply = DetectAutoReply(msg);
  c.warmup_token = ExtractWarmupToken(msg);
  if (!c.complaint) c.reply = MatchReply(msg, ours);
  if (c.complaint) {
    c.kind = IncomingKind::kComplaint;
  } else if (c.bounce) {
    c.kind = IncomingKind::kBounce;
  } else if (c.auto_reply) {
    c.kind = IncomingKind::kAutoReply;
  } else if (c.warmup_token) {
    c.kind = IncomingKind::kWarmup;
  } else if (c.reply) {
    c.kind = IncomingKind::kReply;
  }
  return c;
}

}  // namespace kiln::mail
