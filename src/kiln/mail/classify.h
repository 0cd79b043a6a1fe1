// Classify: what an incoming message is to Kiln, in one call.
//
// Precedence (the first that applies gives the kind):
//   1. complaint   an ARF feedback report (classify_complaint.h)
//   2. bounce      a delivery failure or delay report (classify_bounce.h)
//   3. auto_reply  out-of-office and other automatic answers (classify_autoreply.h)
//   4. warmup      carries a Kiln warm-up token (classify_warmup.h)
//   5. reply       replies to one of our messages (classify_reply.h)
//   6. other
// Reports come first because they also carry Auto-Submitted and quote our Message-ID; automatic
// answers come before replies because they thread like replies. Every detector that applies
// fills its field of the result, whatever the kind, so the engine can e.g. link a bounce of a
// warm-up message to its warm-up thread, or an auto-reply to the campaign message it answers.
//
// Thread-safety: a pure function (the lookup's own thread-safety aside).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kiln/mail/classify_autoreply.h"
#include "kiln/mail/classify_bounce.h"
#include "kiln/mail/classify_complaint.h"
#include "kiln/mail/classify_reply.h"
#include "kiln/mail/classify_warmup.h"
#include "kiln/mail/incoming.h"

namespace kiln::mail {

enum class IncomingKind { kComplaint, kBounce, kAutoReply, kWarmup, kReply, kOther };

// "complaint", "bounce", "auto_reply", "warmup", "reply", "other".
std::string_view IncomingKindName(IncomingKind kind);

struct Classification {
  IncomingKind kind = IncomingKind::kOther;
  std::optional<ComplaintInfo> complaint;
  std::optional<BounceInfo> bounce;
  std::optional<AutoReplyInfo> auto_reply;
  std::optional<std::string> warmup_token;
  std::optional<ReplyMatch> reply;  // which of our messages it answers (any kind but complaint)
};

// Classifies `msg` by the documented precedence. Never fails.
Classification Classify(const IncomingMessage& msg, const OurMessageLookup& ours);

}  // namespace kiln::mail
