#include "kiln/warmup/pairing.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <map>
#include <utility>

namespace kiln::warmup {

std::string_view CounterpartKindName(CounterpartKind kind) {
  return kind == CounterpartKind::kBot ? "bot" : "peer";
}

std::string AddressDomain(std::string_view email) {
  const size_t at = email.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string domain(email.substr(at + 1));
  for (char& c : domain) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return domain;
}

uint32_t PairingPool::InternDomain(const std::string& domain) {
  auto [it, inserted] = domain_ids_.try_emplace(domain, static_cast<uint32_t>(domains_.size()));
  if (inserted) domains_.push_back(domain);
  return it->second;
}

// The ring order: within a provider, round-robin over its domains (each domain's candidates by
// id); providers interleaved in proportion to their sizes (item k of a provider with n items sits
// at (k + 1/2) / n of the ring), so that neighbours differ in provider and domain wherever the
// mix allows.
void PairingPool::Ring::Build(std::vector<Candidate> candidates, PairingPool& pool) {
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.id < b.id; });
  candidates.erase(std::unique(candidates.begin(), candidates.end(),
                               [](const Candidate& a, const Candidate& b) { return a.id == b.id; }),
                   candidates.end());

  // provider -> domain -> candidate indexes (by id)
  std::map<std::string, std::map<std::string, std::vector<size_t>>> groups;
  for (size_t i = 0; i < candidates.size(); ++i) {
    groups[candidates[i].provider][candidates[i].domain].push_back(i);
  }
  struct Placed {
    int64_t num;  // 2k + 1
    int64_t den;  // 2n
    size_t provider;
    size_t candidate;
  };
  std::vector<Placed> placed;
  placed.reserve(candidates.size());
  size_t provider_index = 0;
  for (auto& [provider, domains] : groups) {
    std::vector<size_t> round_robin;
    size_t depth = 0;
    bool any = true;
    while (any) {
      any = false;
      for (auto& [domain, members] : domains) {
        if (depth < members.size()) {
          round_robin.push_back(members[depth]);
          any = true;
        }
      }
      ++depth;
    }
    const auto n = static_cast<int64_t>(round_robin.size());
    for (size_t k = 0; k < round_robin.size(); ++k) {
      placed.push_back({2 * static_cast<int64_t>(k) + 1, 2 * n, provider_index, round_robin[k]});
    }
    ++provider_index;
  }
  std::sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) {
    const __int128 lhs = static_cast<__int128>(a.num) * b.den;
    const __int128 rhs = static_cast<__int128>(b.num) * a.den;
    if (lhs != rhs) return lhs < rhs;
    return a.provider < b.provider;
  });

  slots.clear();
  slots.reserve(placed.size());
  index.clear();
  has_room.assign((placed.size() + 63) / 64, 0);
  room_words.assign((has_room.size() + 63) / 64, 0);
  with_room = 0;
  for (const Placed& p : placed) {
    Candidate& c = candidates[p.candidate];
    index.emplace(c.id, static_cast<uint32_t>(slots.size()));
    slots.push_back({c.id, pool.InternDomain(c.domain), 0});
    SetRoom(slots.size() - 1, c.room);
  }
}

void PairingPool::Ring::SetRoom(size_t pos, int room) {
  slots[pos].room = room;
  const uint64_t bit = uint64_t{1} << (pos % 64);
  const bool had = (has_room[pos / 64] & bit) != 0;
  if (room > 0) {
    has_room[pos / 64] |= bit;
    if (!had) ++with_room;
  } else {
    has_room[pos / 64] &= ~bit;
    if (had) --with_room;
  }
  const size_t w = pos / 64;
  const uint64_t word_bit = uint64_t{1} << (w % 64);
  if (has_room[w] != 0) {
    room_words[w / 64] |= word_bit;
  } else {
    room_words[w / 64] &= ~word_bit;
  }
}

std::optional<uint32_t> PairingPool::Ring::PositionOf(int64_t id) const {
  auto it = index.find(id);
  if (it == index.end()) return std::nullopt;
  return it->second;
}

namespace {

// Calls fn(w) for each word index w in [from, to) whose bit is set in `summary`, in order, until
// fn returns true. Returns whether it did.
template <typename Fn>
bool ForEachWord(const std::vector<uint64_t>& summary, size_t from, size_t to, Fn&& fn) {
  for (size_t sw = from / 64; sw * 64 < to && sw < summary.size(); ++sw) {
    uint64_t bits = summary[sw];
    if (sw == from / 64) bits &= ~uint64_t{0} << (from % 64);
    while (bits != 0) {
      const size_t w = sw * 64 + static_cast<size_t>(std::countr_zero(bits));
      bits &= bits - 1;
      if (w >= to) return false;
      if (fn(w)) return true;
    }
  }
  return false;
}

// Calls fn(pos) for every position whose bit is set in both `a` and `b`, cyclically from
// `start`, until fn returns true. Returns whether it did. `summary` has a bit per word of `b`,
// set when the word is not zero, so that empty stretches of `b` cost nothing.
template <typename Fn>
bool ScanBoth(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b,
              const std::vector<uint64_t>& summary, size_t size, size_t start, Fn&& fn) {
  const size_t words = a.size();
  if (size == 0 || words == 0) return false;
  auto word = [&](size_t w, uint64_t mask) {
    uint64_t bits = a[w] & b[w] & mask;
    while (bits != 0) {
      const size_t pos = w * 64 + static_cast<size_t>(std::countr_zero(bits));
      bits &= bits - 1;
      if (pos < size && fn(pos)) return true;
    }
    return false;
  };
  const size_t ws = start / 64;
  const uint64_t high = ~uint64_t{0} << (start % 64);  // from `start` on
  if (word(ws, high)) return true;
  auto all = [&](size_t w) { return word(w, ~uint64_t{0}); };
  if (ForEachWord(summary, ws + 1, words, all)) return true;
  if (ForEachWord(summary, 0, ws, all)) return true;
  return word(ws, ~high);  // ... and back up to it
}

}  // namespace

uint32_t SenderHistory::SeqMap::Get(uint32_t pos) const {
  if (slots_.empty()) return 0;
  const size_t mask = slots_.size() - 1;
  const uint64_t key = uint64_t{pos} + 1;
  for (size_t i = (pos * 0x9e3779b9u) & mask;; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return 0;
    if ((slot >> 32) == key) return static_cast<uint32_t>(slot);
  }
}

uint32_t SenderHistory::SeqMap::Put(uint32_t pos, uint32_t value) {
  if ((used_ + 1) * 4 > slots_.size() * 3) {  // keep the load under 3/4
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, 0);
    used_ = 0;
    for (uint64_t slot : old) {
      if (slot != 0) Put(static_cast<uint32_t>((slot >> 32) - 1), static_cast<uint32_t>(slot));
    }
  }
  const size_t mask = slots_.size() - 1;
  const uint64_t key = uint64_t{pos} + 1;
  for (size_t i = (pos * 0x9e3779b9u) & mask;; i = (i + 1) & mask) {
    if (slots_[i] == 0) {
      ++used_;
      slots_[i] = key << 32 | value;
      return 0;
    }
    if ((slots_[i] >> 32) == key) {
      const auto previous = static_cast<uint32_t>(slots_[i]);
      slots_[i] = key << 32 | value;
      return previous;
    }
  }
}

SenderHistory::SenderHistory(const PairingPool& pool, int64_t sender_id) : sender_id_(sender_id) {
  for (auto [ring, k] : {std::pair{&pool.bots_, &bots_}, std::pair{&pool.peers_, &peers_}}) {
    const size_t n = ring->slots.size();
    k->never.assign((n + 63) / 64, ~uint64_t{0});
    if (n % 64 != 0) k->never.back() = (uint64_t{1} << (n % 64)) - 1;
    k->size = n;
  }
  if (auto self = pool.peers_.PositionOf(sender_id)) self_peer_pos_ = *self;
}

void SenderHistory::Touch(PerKind& k, uint32_t pos) {
  if (pos >= k.size) return;
  k.never[pos / 64] &= ~(uint64_t{1} << (pos % 64));
  k.order.push_back(pos);
  const uint32_t previous = k.seq.Put(pos, static_cast<uint32_t>(k.order.size()));
  // Only a repeated contact can make the entry at the head stale.
  if (previous != 0 && previous - 1 == k.head) {
    while (k.head < k.order.size() && k.SeqOf(k.order[k.head]) != k.head + 1) ++k.head;
  }
  // Compact when most of `order` is stale.
  if (k.head > 1024 && k.head * 2 > k.order.size()) {
    std::vector<uint32_t> live;
    live.reserve(k.order.size() - k.head);
    for (size_t i = k.head; i < k.order.size(); ++i) {
      if (k.SeqOf(k.order[i]) == i + 1) {
        live.push_back(k.order[i]);
        k.seq.Put(k.order[i], static_cast<uint32_t>(live.size()));
      }
    }
    k.order = std::move(live);
    k.head = 0;
  }
}

void SenderHistory::AddContact(const PairingPool& pool, CounterpartKind kind, int64_t id) {
  const bool bot = kind == CounterpartKind::kBot;
  const PairingPool::Ring& ring = bot ? pool.bots_ : pool.peers_;
  auto pos = ring.PositionOf(id);
  if (!pos) return;
  Touch(bot ? bots_ : peers_, *pos);
  last_domain_ = ring.slots[*pos].domain;
}

PairingPool::PairingPool(std::vector<Candidate> bots, std::vector<Candidate> peers) {
  bots_.Build(std::move(bots), *this);
  peers_.Build(std::move(peers), *this);
}

std::optional<uint32_t> PairingPool::ChooseIn(const Ring& ring,
                                              const SenderHistory::PerKind& contacts,
                                              CounterpartKind kind,
                                              const SenderHistory& history) const {
  const size_t n = ring.slots.size();
  if (n == 0 || contacts.size != n || ring.with_room == 0) return std::nullopt;
  const uint64_t salt = kind == CounterpartKind::kBot ? 0 : 0x5bd1e995ULL;
  const size_t offset = domain::Mix64(static_cast<uint64_t>(history.sender_id_) ^ salt) % n;
  std::optional<uint32_t> self;
  if (kind == CounterpartKind::kPeer && history.self_peer_pos_ != UINT32_MAX) {
    self = history.self_peer_pos_;
  }
  const uint32_t avoid = history.last_domain_;

  std::optional<uint32_t> chosen, fallback;
  auto consider = [&](size_t pos) {
    if (self && pos == *self) return false;
    if (!fallback) fallback = static_cast<uint32_t>(pos);
    if (ring.slots[pos].domain == avoid) return false;
    chosen = static_cast<uint32_t>(pos);
    return true;
  };
  // Never contacted, in ring order from just after the sender's latest contact of this kind
  // (from its hashed offset before the first): the sender goes round the ring, so a history that
  // remembers only its latest contacts (source.h) still reaches every candidate in turn.
  const size_t start = contacts.order.empty() ? offset : (contacts.order.back() + 1) % n;
  if (ScanBoth(contacts.never, ring.has_room, ring.room_words, n, start, consider)) {
    return chosen;
  }
  // Then the contacted ones with room, least recent first: by their bits when few have room
  // (a busy day), else along the contact order (one of the first few has room).
  const size_t words = contacts.never.size();
  size_t contacted_with_room = 0;
  ForEachWord(ring.room_words, 0, words, [&](size_t w) {
    contacted_with_room +=
        static_cast<size_t>(std::popcount(~contacts.never[w] & ring.has_room[w]));
    return false;
  });
  if (contacted_with_room == 0) return fallback;
  if (contacted_with_room <= 64) {
    std::optional<uint32_t> best, best_any;
    uint32_t best_seq = UINT32_MAX, best_any_seq = UINT32_MAX;
    ForEachWord(ring.room_words, 0, words, [&](size_t w) {
      uint64_t bits = ~contacts.never[w] & ring.has_room[w];
      while (bits != 0) {
        const auto pos =
            static_cast<uint32_t>(w * 64 + static_cast<size_t>(std::countr_zero(bits)));
        bits &= bits - 1;
        if (pos >= n || (self && pos == *self)) continue;
        const uint32_t seq = contacts.SeqOf(pos);
        if (seq < best_any_seq) {
          best_any_seq = seq;
          best_any = pos;
        }
        if (ring.slots[pos].domain != avoid && seq < best_seq) {
          best_seq = seq;
          best = pos;
        }
      }
      return false;
    });
    if (best) return best;
    return fallback ? fallback : best_any;
  }
  for (size_t i = contacts.head; i < contacts.order.size(); ++i) {
    const uint32_t pos = contacts.order[i];
    if (contacts.SeqOf(pos) != i + 1 || ring.slots[pos].room <= 0) continue;
    if (consider(pos)) return chosen;
  }
  return fallback;
}

std::optional<Pick> PairingPool::Choose(const SenderHistory& history, domain::Rng& rng,
                                        const PairingOptions& options) const {
  const int share = std::clamp(options.peer_share_percent, 0, 100);
  const bool peer_first = static_cast<int>(rng.Uniform(100)) < share;
  const CounterpartKind first = peer_first ? CounterpartKind::kPeer : CounterpartKind::kBot;
  const CounterpartKind second = peer_first ? CounterpartKind::kBot : CounterpartKind::kPeer;
  for (CounterpartKind kind : {first, second}) {
    if (kind == CounterpartKind::kPeer && share == 0) continue;
    const bool bot = kind == CounterpartKind::kBot;
    const Ring& ring = bot ? bots_ : peers_;
    auto pos = ChooseIn(ring, bot ? history.bots_ : history.peers_, kind, history);
    if (pos) return Pick{kind, ring.slots[*pos].id, domains_[ring.slots[*pos].domain], *pos};
  }
  return std::nullopt;
}

void PairingPool::Consume(const Pick& pick, SenderHistory* history) {
  const bool bot = pick.kind == CounterpartKind::kBot;
  Ring& ring = bot ? bots_ : peers_;
  std::optional<uint32_t> pos;
  if (pick.position < ring.slots.size() && ring.slots[pick.position].id == pick.id) {
    pos = pick.position;
  } else {
    pos = ring.PositionOf(pick.id);
  }
  if (!pos) return;
  ring.SetRoom(*pos, ring.slots[*pos].room - 1);
  history->Touch(bot ? history->bots_ : history->peers_, *pos);
  history->last_domain_ = ring.slots[*pos].domain;
}

bool PairingPool::SetRoom(CounterpartKind kind, int64_t id, int room) {
  Ring& ring = kind == CounterpartKind::kBot ? bots_ : peers_;
  auto pos = ring.PositionOf(id);
  if (!pos) return false;
  ring.SetRoom(*pos, room);
  return true;
}

int PairingPool::RoomOf(CounterpartKind kind, int64_t id) const {
  const Ring& ring = kind == CounterpartKind::kBot ? bots_ : peers_;
  auto pos = ring.PositionOf(id);
  return pos ? ring.slots[*pos].room : 0;
}

}  // namespace kiln::warmup
