#include "kiln/mail/classify.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace kiln::mail {
namespace {

std::string Fixture(const std::string& name) {
  const char* dir = std::getenv("KILN_SOURCE_DIR");
  const std::string path =
      std::string(dir ? dir : KILN_TEST_SOURCE_DIR) + "/src/kiln/mail/testdata/incoming/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

IncomingMessage Load(const std::string& name) {
  auto r = ParseIncoming(Fixture(name));
  EXPECT_TRUE(r.ok()) << name << ": " << r.status().ToString();
  return r.ok() ? std::move(r).value() : IncomingMessage{};
}

// A fake of the store's lookup: our sent messages in a map.
class MapLookup : public OurMessageLookup {
 public:
  void Add(std::string id, std::string to, std::string subject) {
    by_id_[id] = {id, "key:" + id};
    by_subject_[{NormalizeSubject(subject).subject, AsciiLower(to)}] = {id, "key:" + id};
  }
  std::optional<OurMessageRef> FindByMessageId(std::string_view id) const override {
    auto it = by_id_.find(std::string(id));
    if (it == by_id_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<OurMessageRef> FindBySubjectAndCorrespondent(std::string_view s,
                                                             std::string_view c) const override {
    auto it = by_subject_.find({std::string(s), std::string(c)});
    if (it == by_subject_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, OurMessageRef> by_id_;
  std::map<std::pair<std::string, std::string>, OurMessageRef> by_subject_;
};

MapLookup OurMessages() {
  MapLookup l;
  l.Add("kiln.7f3a9c.step1@kiln-a.test", "nobody@example.com",
        "Quick question about Example's hiring");
  l.Add("kiln.step1.abc@kiln-a.test", "lead.two@gmail.com",
        "Quick question about Example's hiring");
  l.Add("kiln.step2.abc@kiln-a.test", "lead.two@gmail.com",
        "Quick question about Example's hiring");
  l.Add("kiln.partner.1@kiln-a.test", "kim.lee@corp.example", "Partnership idea (v2)");
  l.Add("kiln.q3.1@kiln-a.test", "pat.oneil@client.example", "Your Q3 plans");
  return l;
}

struct BounceCase {
  const char* file;
  const char* format;
  const char* recipient;
  const char* status;
  BounceReason reason;
  bool hard;
  const char* action;
  const char* original_id;  // "" when the report does not include it
};

class BounceFixtureTest : public ::testing::TestWithParam<BounceCase> {};

TEST_P(BounceFixtureTest, ClassifiesRecipientStatusReason) {
  const BounceCase& c = GetParam();
  MapLookup ours = OurMessages();
  Classification cl = Classify(Load(c.file), ours);
  ASSERT_EQ(cl.kind, IncomingKind::kBounce) << c.file << " is " << IncomingKindName(cl.kind);
  ASSERT_TRUE(cl.bounce.has_value());
  EXPECT_EQ(cl.bounce->format, c.format);
  ASSERT_FALSE(cl.bounce->recipients.empty());
  const BouncedRecipient& r = cl.bounce->recipients.front();
  EXPECT_EQ(r.recipient, c.recipient);
  EXPECT_EQ(r.status, c.status) << r.diagnostic;
  EXPECT_EQ(BounceReasonName(r.reason), BounceReasonName(c.reason)) << r.diagnostic;
  EXPECT_EQ(r.hard, c.hard);
  EXPECT_EQ(r.action, c.action);
  EXPECT_EQ(cl.bounce->original_message_id, c.original_id);
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, BounceFixtureTest,
    ::testing::Values(
        BounceCase{"postfix_dsn_user_unknown.eml", "rfc3464", "nobody@example.com", "5.1.1",
                   BounceReason::kUserUnknown, true, "failed", "kiln.7f3a9c.step1@kiln-a.test"},
        BounceCase{"postfix_nodsn_user_unknown.eml", "postfix", "j.doe@customer.example", "5.1.1",
                   BounceReason::kUserUnknown, true, "failed", ""},
        BounceCase{"qmail_user_unknown.eml", "qmail", "ghost@qmail-customer.example", "5.1.1",
                   BounceReason::kUserUnknown, true, "failed", ""},
        BounceCase{"exim_user_unknown.eml", "rfc3464", "lost@exim-customer.example", "5.0.0",
                   BounceReason::kUserUnknown, true, "failed", "kiln.exim.1@kiln-a.test"},
        BounceCase{"exim_text_retry_timeout.eml", "exim", "slow@far-away.example", "",
                   BounceReason::kExpired, false, "failed", ""},
        BounceCase{"sendmail_user_unknown.eml", "sendmail", "nosuch@sendmail-customer.example",
                   "5.1.1", BounceReason::kUserUnknown, true, "failed", ""},
        BounceCase{"courier_user_unknown.eml", "courier", "missing@courier-customer.example",
                   "5.1.1", BounceReason::kUserUnknown, true, "failed", ""},
        BounceCase{"exchange_classic_ndr.eml", "exchange",
                   "pat.former@corp.exchange-customer.example", "5.1.1", BounceReason::kUserUnknown,
                   true, "failed", ""},
        BounceCase{"office365_ndr.eml", "rfc3464", "alex@contoso.example", "5.1.10",
                   BounceReason::kUserUnknown, true, "failed", "kiln.o365.1@kiln-a.test"},
        BounceCase{"gmail_dsn_address_not_found.eml", "rfc3464", "nobody.here@gmail.com", "5.1.1",
                   BounceReason::kUserUnknown, true, "failed", "kiln.gmail.1@kiln-a.test"},
        BounceCase{"gmail_text_mailbox_full.eml", "gmail", "hoarder@gmail.com", "5.2.2",
                   BounceReason::kMailboxFull, false, "failed", ""},
        BounceCase{"yahoo_user_unknown.eml", "yahoo", "gone.user@yahoo.com", "554",
                   BounceReason::kUserUnknown, true, "failed", ""},
        BounceCase{"rfc3464_dmarc_reject.eml", "rfc3464", "buyer@strict.example", "5.7.26",
                   BounceReason::kPolicyAuth, false, "failed", ""},
        BounceCase{"rfc3464_spam_block.eml", "rfc3464", "cto@filtered.example", "5.7.1",
                   BounceReason::kBlockedSpam, false, "failed", ""},
        BounceCase{"postfix_dsn_delayed.eml", "rfc3464", "slowpoke@slow.example", "4.4.1",
                   BounceReason::kOther, false, "delayed", ""},
        BounceCase{"postfix_dsn_expired.eml", "rfc3464", "slowpoke@slow.example", "4.4.1",
                   BounceReason::kExpired, false, "failed", ""}),
    [](const ::testing::TestParamInfo<BounceCase>& info) {
      std::string name = info.param.file;
      name = name.substr(0, name.find('.'));
      return name;
    });

TEST(BounceTest, EveryRecipientOfAMultiRecipientReport) {
  IncomingMessage m = Load("rfc3464_spam_block.eml");
  auto b = DetectBounce(m);
  ASSERT_TRUE(b.has_value());
  ASSERT_EQ(b->recipients.size(), 3u);  // the "delivered" one is not a bounce
  EXPECT_EQ(b->recipients[1].recipient, "ceo@filtered.example");
  EXPECT_EQ(b->recipients[1].reason, BounceReason::kMessageTooLarge);
  EXPECT_TRUE(b->recipients[1].permanent);
  EXPECT_FALSE(b->recipients[1].hard);
  EXPECT_EQ(b->recipients[2].reason, BounceReason::kRateLimited);
  EXPECT_EQ(b->recipients[2].action, "delayed");
  EXPECT_FALSE(b->recipients[2].permanent);

  auto nodsn = DetectBounce(Load("postfix_nodsn_user_unknown.eml"));
  ASSERT_TRUE(nodsn.has_value());
  ASSERT_EQ(nodsn->recipients.size(), 2u);
  EXPECT_EQ(nodsn->recipients[1].recipient, "a.smith@gone.example");
  EXPECT_EQ(nodsn->recipients[1].reason, BounceReason::kDomainNotFound);
  EXPECT_TRUE(nodsn->recipients[1].hard);

  auto qmail = DetectBounce(Load("qmail_user_unknown.eml"));
  ASSERT_TRUE(qmail.has_value());
  ASSERT_EQ(qmail->recipients.size(), 2u);
  EXPECT_EQ(qmail->recipients[1].recipient, "full@qmail-customer.example");
  EXPECT_EQ(qmail->recipients[1].status, "5.2.2");
  EXPECT_EQ(qmail->recipients[1].reason, BounceReason::kMailboxFull);
}

TEST(BounceTest, ReasonFromCodeAndText) {
  EXPECT_EQ(ClassifyBounceReason("5.1.1", ""), BounceReason::kUserUnknown);
  EXPECT_EQ(ClassifyBounceReason("5.1.2", ""), BounceReason::kDomainNotFound);
  EXPECT_EQ(ClassifyBounceReason("4.4.7", ""), BounceReason::kExpired);
  EXPECT_EQ(ClassifyBounceReason("5.7.509", "Access denied"), BounceReason::kPolicyAuth);
  EXPECT_EQ(ClassifyBounceReason("550", "SPF check failed"), BounceReason::kPolicyAuth);
  EXPECT_EQ(ClassifyBounceReason("5.7.1", "Recipient address rejected: Access denied"),
            BounceReason::kBlockedSpam);
  EXPECT_EQ(ClassifyBounceReason("550", "mailbox unavailable: user unknown"),
            BounceReason::kUserUnknown);
  EXPECT_EQ(ClassifyBounceReason("4.7.28", ""), BounceReason::kRateLimited);
  EXPECT_EQ(ClassifyBounceReason("", "something odd"), BounceReason::kOther);
  EXPECT_EQ(FindEnhancedStatus("host 192.5.1.10 said 550 5.1.1 no"), "5.1.1");
  EXPECT_EQ(FindEnhancedStatus("v1.2.3 and 5.1.10."), "5.1.10");
  EXPECT_TRUE(IsHardBounce(true, BounceReason::kUserUnknown));
  EXPECT_FALSE(IsHardBounce(true, BounceReason::kMailboxFull));
  EXPECT_FALSE(IsHardBounce(false, BounceReason::kUserUnknown));
}

TEST(ComplaintTest, ArfReports) {
  MapLookup ours = OurMessages();
  Classification c = Classify(Load("arf_yahoo_abuse.eml"), ours);
  ASSERT_EQ(c.kind, IncomingKind::kComplaint);
  EXPECT_EQ(c.complaint->feedback_type, "abuse");
  EXPECT_EQ(c.complaint->original_recipient, "complainer@yahoo.com");
  EXPECT_EQ(c.complaint->original_mail_from, "bounces+kiln.9f8e@kiln-a.test");
  EXPECT_EQ(c.complaint->original_message_id, "kiln.arf.1@kiln-a.test");
  EXPECT_EQ(c.complaint->user_agent, "Yahoo!-Mail-Feedback/2.0");
  EXPECT_EQ(c.complaint->source_ip, "192.0.2.10");

  Classification r = Classify(Load("arf_redacted_recipient.eml"), ours);
  ASSERT_EQ(r.kind, IncomingKind::kComplaint);
  EXPECT_EQ(r.complaint->original_recipient, "redacted@isp.example");
  EXPECT_EQ(r.complaint->original_message_id, "kiln.arf.2@kiln-a.test");
}

TEST(AutoReplyTest, FixturesInSeveralLanguages) {
  MapLookup ours = OurMessages();
  for (const char* f : {"autoreply_gmail_vacation.eml", "autoreply_outlook_oof.eml",
                        "autoreply_german_abwesenheit.eml", "autoreply_french.eml",
                        "autoreply_helpdesk_bulk.eml"}) {
    Classification c = Classify(Load(f), ours);
    EXPECT_EQ(c.kind, IncomingKind::kAutoReply) << f << " is " << IncomingKindName(c.kind);
  }
  Classification gmail = Classify(Load("autoreply_gmail_vacation.eml"), ours);
  ASSERT_TRUE(gmail.reply.has_value());  // still linked to the campaign message it answers
  EXPECT_EQ(gmail.reply->ours.message_id, "kiln.7f3a9c.step1@kiln-a.test");
  auto oof = DetectAutoReply(Load("autoreply_outlook_oof.eml"));
  ASSERT_TRUE(oof.has_value());
  EXPECT_TRUE(oof->out_of_office);
  EXPECT_TRUE(DetectAutoReply(Load("autoreply_french.eml"))->out_of_office);
}

TEST(AutoReplyTest, SubjectWordsInsideAReplyDoNotCount) {
  IncomingMessage m;
  m.subject = "Re: Save 20% on vacation rentals";
  EXPECT_FALSE(DetectAutoReply(m).has_value());
  m.subject = "RE: Out of Office: Save 20%";
  EXPECT_TRUE(DetectAutoReply(m).has_value());
  m.subject = "Hello";
  m.headers.emplace("X-Auto-Response-Suppress", "All");
  EXPECT_FALSE(DetectAutoReply(m).has_value());  // weak signal alone
  m.headers.emplace("Auto-Submitted", "no");
  EXPECT_FALSE(DetectAutoReply(m).has_value());
}

TEST(ReplyTest, MatchMethods) {
  MapLookup ours = OurMessages();
  Classification threaded = Classify(Load("reply_gmail_threaded.eml"), ours);
  ASSERT_EQ(threaded.kind, IncomingKind::kReply);
  EXPECT_EQ(threaded.reply->ours.message_id, "kiln.step2.abc@kiln-a.test");
  EXPECT_EQ(threaded.reply->method, ReplyMatch::Method::kInReplyTo);

  Classification quoted = Classify(Load("reply_outlook_rewritten_ids.eml"), ours);
  ASSERT_EQ(quoted.kind, IncomingKind::kReply);
  EXPECT_EQ(quoted.reply->ours.message_id, "kiln.partner.1@kiln-a.test");
  EXPECT_EQ(quoted.reply->method, ReplyMatch::Method::kQuotedMessageId);

  Classification subject = Classify(Load("reply_subject_only.eml"), ours);
  ASSERT_EQ(subject.kind, IncomingKind::kReply) << IncomingKindName(subject.kind);
  EXPECT_EQ(subject.reply->ours.message_id, "kiln.q3.1@kiln-a.test");
  EXPECT_EQ(subject.reply->method, ReplyMatch::Method::kSubjectAndAddress);

  IncomingMessage refs_only;
  refs_only.references = {"kiln.step1.abc@kiln-a.test", "someone.else@x"};
  auto m = MatchReply(refs_only, ours);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->method, ReplyMatch::Method::kReferences);
}

TEST(ReplyTest, NormalizeSubjectPrefixes) {
  EXPECT_EQ(NormalizeSubject("Re: Hello  World").subject, "hello world");
  EXPECT_TRUE(NormalizeSubject("Re: Hello").had_reply_prefix);
  for (const char* s : {"RE: x", "Aw: x", "AW: x", "Sv: x", "SV: x", "Antw: x", "Rif: x", "R: x",
                        "Odp: x", "Ynt: x", "Re[2]: x", "Re(3): x", "Re: Re: RE: x",
                        "[EXTERNAL] Re: x", "回复：x", "Ответ: x", "ΑΠ: x", "Vá: x"}) {
    NormalizedSubject n = NormalizeSubject(s);
    EXPECT_TRUE(n.had_reply_prefix) << s;
    EXPECT_EQ(n.subject, "x") << s;
  }
  NormalizedSubject fwd = NormalizeSubject("Fwd: WG: x");
  EXPECT_FALSE(fwd.had_reply_prefix);
  EXPECT_TRUE(fwd.had_forward_prefix);
  EXPECT_EQ(fwd.subject, "x");
  EXPECT_FALSE(NormalizeSubject("Meeting: tomorrow").had_reply_prefix);
  EXPECT_EQ(NormalizeSubject("Meeting: tomorrow").subject, "meeting: tomorrow");
}

TEST(WarmupTest, HeaderAndBodyTag) {
  MapLookup ours = OurMessages();
  Classification h = Classify(Load("warmup_header.eml"), ours);
  ASSERT_EQ(h.kind, IncomingKind::kWarmup);
  EXPECT_EQ(*h.warmup_token, "7h3k2m9q4x8z1c5v6b0n");
  IncomingMessage reply = Load("warmup_body_tag_reply.eml");
  EXPECT_TRUE(IsKilnWarmup(reply));
  EXPECT_EQ(ExtractWarmupToken(reply), std::optional<std::string>("7h3k2m9q4x8z1c5v6b0n"));
  EXPECT_EQ(WarmupBodyTag("7h3k2m9q4x8z1c5v6b0n"), "kw-7h3k2m9q4x8z1c5v6b0n");
  EXPECT_TRUE(IsValidWarmupToken("abcdefghij012345"));
  EXPECT_FALSE(IsValidWarmupToken("short"));
  EXPECT_FALSE(IsValidWarmupToken("ABCDEFGHIJ012345"));
  IncomingMessage glued;
  glued.text_body = "xkw-abcdefghij012345 and kw-abcdefghij012345x!";
  EXPECT_TRUE(IsKilnWarmup(glued));  // the second is a word of its own ("x" is a token char)
  glued.text_body = "xkw-abcdefghij012345";
  EXPECT_FALSE(IsKilnWarmup(glued));
}

TEST(ClassifyTest, OrdinaryMailIsOther) {
  MapLookup ours = OurMessages();
  Classification c = Classify(Load("other_newsletter.eml"), ours);
  EXPECT_EQ(c.kind, IncomingKind::kOther);
  EXPECT_FALSE(c.warmup_token.has_value());
  EXPECT_FALSE(c.bounce.has_value());
}

TEST(ClassifyTest, EveryFixtureParsesAndClassifiesWithoutCrashing) {
  MapLookup ours = OurMessages();
  int count = 0;
  for (const char* f : {"postfix_dsn_user_unknown.eml",
                        "postfix_nodsn_user_unknown.eml",
                        "qmail_user_unknown.eml",
                        "exim_user_unknown.eml",
                        "exim_text_retry_timeout.eml",
                        "sendmail_user_unknown.eml",
                        "courier_user_unknown.eml",
                        "exchange_classic_ndr.eml",
                        "office365_ndr.eml",
                        "gmail_dsn_address_not_found.eml",
                        "gmail_text_mailbox_full.eml",
                        "yahoo_user_unknown.eml",
                        "rfc3464_dmarc_reject.eml",
                        "rfc3464_spam_block.eml",
                        "postfix_dsn_delayed.eml",
                        "postfix_dsn_expired.eml",
                        "arf_yahoo_abuse.eml",
                        "arf_redacted_recipient.eml",
                        "autoreply_gmail_vacation.eml",
                        "autoreply_outlook_oof.eml",
                        "autoreply_german_abwesenheit.eml",
                        "autoreply_french.eml",
                        "autoreply_helpdesk_bulk.eml",
                        "reply_gmail_threaded.eml",
                        "reply_outlook_rewritten_ids.eml",
                        "reply_subject_only.eml",
                        "warmup_header.eml",
                        "warmup_body_tag_reply.eml",
                        "other_newsletter.eml",
                        "encoded_latin1_html_only.eml"}) {
    Classify(Load(f), ours);
    ++count;
  }
  EXPECT_EQ(count, 30);
}

}  // namespace
}  // namespace kiln::mail
