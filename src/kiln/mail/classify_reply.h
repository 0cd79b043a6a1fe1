// Reply matching: is an incoming message a reply to one of the messages Kiln sent?
//
// Matching order (the first that finds one of our messages wins):
//   1. In-Reply-To                                   (method kInReplyTo)
//   2. References, newest (last) first               (kReferences)
//   3. a Message-ID quoted in the body, e.g. by a client that rewrote the threading headers
//      ("> Message-ID: <...>" or a bare "<id@host>" in the quoted text)   (kQuotedMessageId)
//   4. the subject with a reply prefix ("Re: <our subject>", prefixes in many languages: Re, RE,
//      Aw, AW, Sv, SV, Antw, Antwort, Rif, R, Odp, Ynt, Vá, Ats, Atb, Res, RES, Odg, Vs, ΑΠ, Отв,
//      回复, 答复, 返信 …, possibly repeated or numbered "Re[2]:" / "Re(2):") plus the
//      correspondent's address, looked up by the caller (kSubjectAndAddress)
// The consumer (the engine, backed by the store) owns the lookup; the classifier does no I/O.
//
// Thread-safety: pure functions; thread-safety of the lookup is the implementation's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kiln/mail/incoming.h"

namespace kiln::mail {

// One of our sent messages, as the store identifies it.
struct OurMessageRef {
  std::string message_id;  // our Message-ID, without angle brackets
  std::string key;         // the store's key for the message (opaque here)
};

// Finds our sent messages. Implementations must not throw.
class OurMessageLookup {
 public:
  virtual ~OurMessageLookup() = default;
  // Our message whose Message-ID is `message_id` (no angle brackets; compare exactly).
  virtual std::optional<OurMessageRef> FindByMessageId(std::string_view message_id) const = 0;
  // Our most recent message sent to `correspondent` (an addr-spec, lower-cased) whose subject,
  // after NormalizeSubject, equals `normalized_subject`.
  virtual std::optional<OurMessageRef> FindBySubjectAndCorrespondent(
      std::string_view normalized_subject, std::string_view correspondent) const = 0;
};

struct NormalizedSubject {
  std::string subject;  // prefixes stripped, whitespace collapsed, ASCII lower-cased
  bool had_reply_prefix = false;
  bool had_forward_prefix = false;
};

// Strips any sequence of reply and forward prefixes ("Re: AW: Fwd: [2] ...") and "[External]"-style
// tags, collapses whitespace and lower-cases ASCII. "Re: Hello  World" -> {"hello world", true}.
NormalizedSubject NormalizeSubject(std::string_view subject);

struct ReplyMatch {
  enum class Method { kInReplyTo, kReferences, kQuotedMessageId, kSubjectAndAddress };
  OurMessageRef ours;
  Method method;
};

std::string_view ReplyMethodName(ReplyMatch::Method method);

// The message of ours that `msg` replies to, by the documented order; nullopt when none.
// Message-IDs in the body are read from at most the first 64 KiB of text and 50 candidates.
std::optional<ReplyMatch> MatchReply(const IncomingMessage& msg, const OurMessageLookup& lookup);

}  // namespace kiln::mail
