#include "kiln/mail/classify_autoreply.h"

#include <array>
#include <string_view>

#include "kiln/mail/classify_reply.h"

namespace kiln::mail {
namespace {

// Lower-cased (ASCII) subject starts of absence notices and automatic replies. Non-ASCII
// letters are listed in the case they appear in (subjects are usually capitalised only at the
// start, which is ASCII in most of these).
constexpr std::array<std::string_view, 48> kOutOfOfficeSubjects = {"out of office",
                                                                   "out of the office",
                                                                   "automatic reply",
                                                                   "auto reply",
                                                                   "auto-reply",
                                                                   "autoreply",
                                                                   "auto response",
                                                                   "auto-response",
                                                                   "autoresponse",
                                                                   "away from the office",
                                                                   "on vacation",
                                                                   "vacation reply",
                                                                   "on leave",
                                                                   "abwesenheitsnotiz",
                                                                   "automatische antwort",
                                                                   "abwesend",
                                                                   "nicht im büro",
                                                                   "réponse automatique",
                                                                   "absence du bureau",
                                                                   "absent du bureau",
                                                                   "respuesta automática",
                                                                   "respuesta automatica",
                                                                   "fuera de la oficina",
                                                                   "risposta automatica",
                                                                   "fuori ufficio",
                                                                   "fuori sede",
                                                                   "afwezig",
                                                                   "automatisch antwoord",
                                                                   "autosvar",
                                                                   "automatisk svar",
                                                                   "frånvaro",
                                                                   "fraværende",
                                                                   "ikke til stede",
                                                                   "automaattinen vastaus",
                                                                   "poissa toimistolta",
                                                                   "odpowiedź automatyczna",
                                                                   "poza biurem",
                                                                   "resposta automática",
                                                                   "resposta automatica",
                                                                   "ausente",
                                                                   "otomatik yanıt",
                                                                   "ofis dışında",
                                                                   "автоматический ответ",
                                                                   "автоответ",
                                                                   "自动回复",
                                                                   "自動回覆",
                                                                   "自動応答",
                                                                   "不在のお知らせ"};

void AddHeaderSignals(const IncomingMessage& msg, std::vector<std::string>& strong,
                      std::vector<std::string>& weak) {
  if (auto v = FirstHeader(msg.headers, "Auto-Submitted")) {
    std::string value = AsciiLower(*v);
    const size_t semi = value.find(';');
    if (semi != std::string::npos) value.resize(semi);
    while (!value.empty() && value.back() == ' ') value.pop_back();
    if (!value.empty() && value != "no") strong.push_back("auto-submitted:" + value);
  }
  for (std::string_view name :
       {"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"}) {
    if (auto v = FirstHeader(msg.headers, name)) {
      const std::string value = AsciiLower(*v);
      if (value != "no" && value != "false" && value != "0") {
        strong.push_back(AsciiLower(name) + ":" + value);
      }
    }
  }
  if (auto v = FirstHeader(msg.headers, "Precedence")) {
    const std::string value = AsciiLower(*v);
    if (value.find("auto_reply") != std::string::npos) {
      strong.push_back("precedence:auto_reply");
    } else if (value.find("bulk") != std::string::npos || value.find("junk") != std::string::npos) {
      strong.push_back("precedence:" + value);
    }
  }
  if (auto v = FirstHeader(msg.headers, "X-Auto-Response-Suppress")) {
    weak.push_back("x-auto-response-suppress:" + AsciiLower(*v));
  }
}

}  // namespace

std::optional<AutoReplyInfo> DetectAutoReply(const IncomingMessage& msg) {
  std::vector<std::string> strong;
  std::vector<std::string> weak;
  AddHeaderSignals(msg, strong, weak);
  AutoReplyInfo info;
  // Only the start of the subject counts ("Automatic reply: <original subject>"): a reply to a
  // campaign about "vacation rentals" must not read as an absence notice.
  const std::string subject = NormalizeSubject(msg.subject).subject;
  for (auto fragment : kOutOfOfficeSubjects) {
    if (subject.rfind(fragment, 0) == 0) {
      info.out_of_office = true;
      strong.push_back("subject:" + std::string(fragment));
      break;
    }
  }
  if (strong.empty()) return std::nullopt;
  info.signals = std::move(strong);
  info.signals.insert(info.signals.end(), weak.begin(), weak.end());
  return info;
}

}  // namespace kiln::mail
