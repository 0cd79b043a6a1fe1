#include "kiln/warmup/pairing.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace kiln::warmup {
namespace {

std::vector<Candidate> Bots(int n, int domains, int room, int providers = 1) {
  std::vector<Candidate> out;
  for (int i = 1; i <= n; ++i) {
    out.push_back({i, "d" + std::to_string(i % domains) + ".test",
                   "p" + std::to_string(i % providers), room});
  }
  return out;
}

TEST(PairingTest, AddressDomainLowersCase) {
  EXPECT_EQ(AddressDomain("Ann@Example.COM"), "example.com");
  EXPECT_EQ(AddressDomain("nobody"), "");
}

TEST(PairingTest, NeverChoosesACounterpartWithoutRoom) {
  std::vector<Candidate> bots = Bots(6, 3, 2);
  bots[0].room = 0;
  bots[3].room = -1;
  PairingPool pool(bots, {});
  SenderHistory cursor(pool, 100);
  domain::Rng rng(1);
  std::map<int64_t, int> received;
  for (int i = 0; i < 8; ++i) {  // 4 bots with room 2 each
    auto pick = pool.Choose(cursor, rng, {});
    ASSERT_TRUE(pick.has_value()) << i;
    EXPECT_EQ(pick->kind, CounterpartKind::kBot);
    ++received[pick->id];
    pool.Consume(*pick, &cursor);
  }
  EXPECT_FALSE(pool.Choose(cursor, rng, {}).has_value());
  EXPECT_EQ(received.count(1), 0u);
  EXPECT_EQ(received.count(4), 0u);
  for (auto [id, n] : received) EXPECT_EQ(n, 2) << id;
  EXPECT_EQ(pool.RoomOf(CounterpartKind::kBot, 2), 0);
  EXPECT_TRUE(pool.SetRoom(CounterpartKind::kBot, 2, 1));
  EXPECT_FALSE(pool.SetRoom(CounterpartKind::kBot, 99, 1));
  auto pick = pool.Choose(cursor, rng, {});
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->id, 2);
}

TEST(PairingTest, VisitsEveryBotOnceBeforeRepeating) {
  // Three domains of four: the ring alternates domains, so no walk ever skips.
  PairingPool pool(Bots(12, 3, 1000), {});
  for (int64_t sender = 1; sender <= 20; ++sender) {
    PairingPool copy = pool;
    SenderHistory cursor(copy, sender);
    domain::Rng rng(static_cast<uint64_t>(sender));
    std::vector<int64_t> order;
    std::string last_domain;
    for (int i = 0; i < 36; ++i) {
      auto pick = copy.Choose(cursor, rng, {});
      ASSERT_TRUE(pick.has_value());
      EXPECT_NE(std::string(pick->domain), last_domain) << "sender " << sender << " pick " << i;
      last_domain = std::string(pick->domain);
      order.push_back(pick->id);
      copy.Consume(*pick, &cursor);
    }
    // Least recently contacted first: each lap of 12 picks meets all 12 bots.
    for (int lap = 0; lap < 3; ++lap) {
      std::set<int64_t> seen(order.begin() + lap * 12, order.begin() + lap * 12 + 12);
      EXPECT_EQ(seen.size(), 12u) << "sender " << sender << " lap " << lap;
    }
  }
}

TEST(PairingTest, NeverTheSameDomainTwiceInARowWhileAnotherHasRoom) {
  // Uneven domains: 7 on a.test, 3 on b.test, 2 on c.test; alternation is possible as long as
  // b and c have room, and every bot still gets its turns.
  std::vector<Candidate> bots;
  for (int i = 1; i <= 12; ++i) {
    bots.push_back({i, i <= 7 ? "a.test" : (i <= 10 ? "b.test" : "c.test"), "other", 1000});
  }
  PairingPool pool(bots, {});
  for (int64_t sender = 1; sender <= 20; ++sender) {
    PairingPool copy = pool;
    SenderHistory cursor(copy, sender);
    domain::Rng rng(static_cast<uint64_t>(sender));
    std::map<int64_t, int> count;
    std::string last_domain;
    for (int i = 0; i < 48; ++i) {
      auto pick = copy.Choose(cursor, rng, {});
      ASSERT_TRUE(pick.has_value());
      EXPECT_NE(std::string(pick->domain), last_domain) << "sender " << sender << " pick " << i;
      last_domain = std::string(pick->domain);
      ++count[pick->id];
      copy.Consume(*pick, &cursor);
    }
    EXPECT_EQ(count.size(), 12u) << "sender " << sender;
    for (auto [id, n] : count) EXPECT_LE(n, 8) << "sender " << sender << " bot " << id;
  }
}

TEST(PairingTest, SkipsTheLastDomainWhenAnotherHasRoom) {
  std::vector<Candidate> bots = {{1, "a.test", "", 5}, {2, "a.test", "", 5}, {3, "b.test", "", 1}};
  PairingPool pool(bots, {});
  SenderHistory history(pool, 7);
  history.AddContact(pool, CounterpartKind::kBot, 1);  // the previous mail went to a.test
  domain::Rng rng(3);
  auto pick = pool.Choose(history, rng, {});
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->id, 3);
  pool.Consume(*pick, &history);
  // Least recently contacted: 2 (never) before 1.
  pick = pool.Choose(history, rng, {});
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->id, 2);
  pool.Consume(*pick, &history);
  // Only a.test has room now: it is used rather than nothing, the least recent first.
  pick = pool.Choose(history, rng, {});
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->id, 1);
}

TEST(PairingTest, LeastRecentlyContactedFirst) {
  PairingPool pool(Bots(4, 4, 100), {});
  SenderHistory history(pool, 9);
  // Contacted 3, then 1, then 4, then 2 (oldest first): all met, so the oldest contact leads.
  for (int64_t id : {3, 1, 4, 2}) history.AddContact(pool, CounterpartKind::kBot, id);
  domain::Rng rng(1);
  std::vector<int64_t> order;
  for (int i = 0; i < 8; ++i) {
    auto pick = pool.Choose(history, rng, {});
    ASSERT_TRUE(pick.has_value());
    order.push_back(pick->id);
    pool.Consume(*pick, &history);
  }
  EXPECT_EQ(order, (std::vector<int64_t>{3, 1, 4, 2, 3, 1, 4, 2}));
  // A bot without room is passed over and keeps its place at the front once it has room.
  pool.SetRoom(CounterpartKind::kBot, 3, 0);
  auto pick = pool.Choose(history, rng, {});
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->id, 1);
  pool.Consume(*pick, &history);
  pool.SetRoom(CounterpartKind::kBot, 3, 5);
  pick = pool.Choose(history, rng, {});
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->id, 3);
}

// The rule of pairing.h, written the slow obvious way, against the pool on random inputs.
TEST(PairingTest, MatchesTheRuleOnRandomPools) {
  domain::Rng rng(2024);
  for (int round = 0; round < 300; ++round) {
    // Some rounds are large and sparse (many words of the room bitsets empty).
    const bool large = round % 25 == 0;
    const int n = large ? 4000 + static_cast<int>(rng.Uniform(6000))
                        : 1 + static_cast<int>(rng.Uniform(round % 3 == 0 ? 200 : 20));
    const int domains = 1 + static_cast<int>(rng.Uniform(5));
    std::vector<Candidate> bots;
    for (int i = 1; i <= n; ++i) {
      bots.push_back({i, "d" + std::to_string(rng.Uniform(static_cast<uint64_t>(domains))),
                      "p" + std::to_string(rng.Uniform(3)),
                      large ? (rng.Uniform(300) == 0 ? 1 : 0) : static_cast<int>(rng.Uniform(3))});
    }
    PairingPool pool(bots, {});
    const int64_t sender = 1000 + round;
    SenderHistory history(pool, sender);
    std::map<int64_t, int> last_contact;  // id -> sequence number
    int seq = 0;
    const int contacts = static_cast<int>(rng.Uniform(static_cast<uint64_t>(3 * n)));
    int64_t last_id = 0;
    for (int c = 0; c < contacts; ++c) {
      const int64_t id = 1 + static_cast<int64_t>(rng.Uniform(static_cast<uint64_t>(n)));
      history.AddContact(pool, CounterpartKind::kBot, id);
      last_contact[id] = ++seq;
      last_id = id;
    }
    std::map<int64_t, std::string> domain_of;
    for (const Candidate& b : bots) domain_of[b.id] = b.domain;
    const std::string avoid = last_id ? domain_of[last_id] : "";

    // Expected: among candidates with room, the least by (on the avoided domain, last contact;
    // 0 = never). Ring order only breaks ties among never-contacted ones, so any of those in the
    // best class is right.
    domain::Rng pick_rng(1);
    auto pick = pool.Choose(history, pick_rng, {0});
    bool any_room = false;
    std::tuple<bool, int> best{true, INT32_MAX};
    for (const Candidate& b : bots) {
      if (b.room <= 0) continue;
      any_room = true;
      auto it = last_contact.find(b.id);
      std::tuple<bool, int> key{b.domain == avoid, it == last_contact.end() ? 0 : it->second};
      best = std::min(best, key);
    }
    ASSERT_EQ(pick.has_value(), any_room) << "round " << round;
    if (!pick) continue;
    EXPECT_GT(pool.RoomOf(CounterpartKind::kBot, pick->id), 0);
    auto it = last_contact.find(pick->id);
    std::tuple<bool, int> got{domain_of[pick->id] == avoid,
                              it == last_contact.end() ? 0 : it->second};
    EXPECT_EQ(got, best) << "round " << round << " picked " << pick->id;
  }
}

TEST(PairingTest, LeastRecentWhenManyContactedHaveRoom) {
  std::vector<Candidate> bots;
  for (int i = 1; i <= 300; ++i) bots.push_back({i, "d" + std::to_string(i % 2) + ".test", "", 10});
  PairingPool pool(bots, {});
  SenderHistory history(pool, 1);
  std::vector<int64_t> contact_order;
  domain::Rng rng(5);
  for (int i = 0; i < 300; ++i) contact_order.push_back(i + 1);
  for (size_t i = contact_order.size() - 1; i > 0; --i) {
    std::swap(contact_order[i], contact_order[rng.Uniform(i + 1)]);
  }
  for (int64_t id : contact_order) history.AddContact(pool, CounterpartKind::kBot, id);
  // Every bot met: the next picks follow the contact order, except that the domain rule may
  // take the next one of the other domain first.
  auto pick = pool.Choose(history, rng, {});
  ASSERT_TRUE(pick.has_value());
  const std::string last_domain = "d" + std::to_string(contact_order.back() % 2) + ".test";
  int64_t expected = 0;
  for (int64_t id : contact_order) {
    if ("d" + std::to_string(id % 2) + ".test" != last_domain) {
      expected = id;
      break;
    }
  }
  EXPECT_EQ(pick->id, expected);
}

TEST(PairingTest, SpreadsAcrossProviders) {
  PairingPool pool(Bots(40, 8, 100, 2), {});
  SenderHistory cursor(pool, 1);
  domain::Rng rng(1);
  std::vector<Candidate> all = Bots(40, 8, 100, 2);
  std::map<int64_t, std::string> provider_of;
  for (const Candidate& c : all) provider_of[c.id] = c.provider;
  std::string last;
  for (int i = 0; i < 40; ++i) {
    auto pick = pool.Choose(cursor, rng, {});
    ASSERT_TRUE(pick.has_value());
    if (i > 0) {
      EXPECT_NE(provider_of[pick->id], last) << i;
    }
    last = provider_of[pick->id];
    pool.Consume(*pick, &cursor);
  }
}

TEST(PairingTest, PeersAtTheirShareNeverThemselves) {
  std::vector<Candidate> peers;
  for (int i = 1; i <= 10; ++i)
    peers.push_back({i, "s" + std::to_string(i % 3) + ".test", "", 1'000'000});
  PairingPool pool(Bots(50, 5, 1'000'000), peers);
  SenderHistory cursor(pool, 4);
  domain::Rng rng(99);
  int peer_picks = 0;
  constexpr int kPicks = 20'000;
  for (int i = 0; i < kPicks; ++i) {
    auto pick = pool.Choose(cursor, rng, {25});
    ASSERT_TRUE(pick.has_value());
    if (pick->kind == CounterpartKind::kPeer) {
      ++peer_picks;
      EXPECT_NE(pick->id, 4);
    }
    pool.Consume(*pick, &cursor);
  }
  EXPECT_NEAR(peer_picks, kPicks / 4, kPicks / 50);

  // Share 0: peer warm-up off. Bots full: peers take it all (at share > 0).
  PairingPool bots_full(Bots(5, 5, 0), peers);
  SenderHistory fresh(bots_full, 4);
  EXPECT_FALSE(bots_full.Choose(fresh, rng, {0}).has_value());
  auto pick = bots_full.Choose(fresh, rng, {1});
  ASSERT_TRUE(pick.has_value());
  EXPECT_EQ(pick->kind, CounterpartKind::kPeer);
  // The sender alone among the peers: nobody.
  PairingPool only_self({}, {{4, "x.test", "", 10}});
  EXPECT_FALSE(only_self.Choose(SenderHistory(only_self, 4), rng, {100}).has_value());
}

TEST(PairingTest, DeterministicForTheSameInputs) {
  auto run = [] {
    PairingPool pool(Bots(30, 4, 3, 3), {{1000, "p.test", "", 5}, {1001, "q.test", "", 5}});
    SenderHistory cursor(pool, 5);
    domain::Rng rng(42);
    std::vector<int64_t> ids;
    while (auto pick = pool.Choose(cursor, rng, {20})) {
      ids.push_back(pick->id);
      pool.Consume(*pick, &cursor);
    }
    return ids;
  };
  std::vector<int64_t> a = run();
  EXPECT_EQ(a.size(), 100u);  // 30 * 3 + 2 * 5: every room used, nothing more
  EXPECT_EQ(a, run());
}

}  // namespace
}  // namespace kiln::warmup
