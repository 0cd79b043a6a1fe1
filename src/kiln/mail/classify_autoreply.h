// Auto-reply detection: out-of-office notices, vacation responders and other automatic answers.
//
// Signals, strongest first:
//   - RFC 3834 Auto-Submitted with any value but "no" (auto-replied, auto-generated, auto-notified)
//   - X-Autoreply (yes), X-Autorespond, X-Autoresponder, X-Auto-Reply
//   - Precedence: auto_reply
//   - a subject starting (after reply prefixes) with the common out-of-office forms of many
//   languages ("Out of Office", "Automatic
//     reply", "Abwesenheitsnotiz", "Automatische Antwort", "Réponse automatique", "Respuesta
//     automática", "Risposta automatica", "Afwezig", "Autosvar", "Automaattinen vastaus",
//     "Odpowiedź automatyczna", "Resposta automática", "Otomatik yanıt", "Автоматический ответ" …)
//   - Precedence: bulk / junk (humans do not send with it)
//   - X-Auto-Response-Suppress (Exchange sets it on its automatic messages, but bulk senders set
//     it too: it counts only together with another signal)
// Bounces also carry Auto-Submitted; Classify checks for bounces first.
//
// Thread-safety: pure functions, safe to call concurrently.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kiln/mail/incoming.h"

namespace kiln::mail {

struct AutoReplyInfo {
  bool out_of_office = false;        // the subject reads as an absence notice
  std::vector<std::string> signals;  // e.g. "auto-submitted:auto-replied", "subject:out of office"
};

// The auto-reply signals of `msg`; nullopt when it does not look automatic.
std::optional<AutoReplyInfo> DetectAutoReply(const IncomingMessage& msg);

}  // namespace kiln::mail
