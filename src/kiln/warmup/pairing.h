// Pairing: who receives a sender's next new warm-up thread (issue 5 §3).
//
// Candidates are a workspace's warm-up inboxes ("bots") and its other senders with warm-up on
// (peer warm-up). Each has `room`: how many more warm-up mails it may receive today (a bot: the
// smaller of its aging volume and daily_receive_limit minus what it received today on its own
// calendar, and none at all once its replies sent or owed today reach its send volume; a peer: its
// own warm-up volume today minus what it received). The rule, for one sender:
//   1. the kind: a peer with probability peer_share_percent, else a bot; the other kind when the
//      drawn one has no candidate with room; a share of 0 turns peer warm-up off;
//   2. within the kind, among the candidates with room (never the sender itself), the first by
//        (a) not on the domain of the sender's previous counterpart (so never the same domain
//            twice in a row while another domain has room),
//        (b) least recently contacted by this sender (never contacted comes first),
//        (c) ring order from just after the sender's latest contact of that kind (before its
//            first, from an offset hashed from the sender): the ring interleaves providers and,
//            within a provider, domains (round-robin), so contacts spread across providers and
//            domains, different senders start in different places, and a sender goes round the
//            whole ring even when its history holds only its latest contacts (source.h reads a
//            bounded window of them).
// A counterpart without room is never chosen, so no bot's limits are exceeded. Threads are
// continued elsewhere (the bot runner schedules the next exchange; content.h fixes the length):
// pairing only starts new ones.
//
// PairingPool holds one workspace's candidates; SenderHistory one sender's contacts (built from
// the database for each new thread, or kept across picks as bench/warmup does). A pick costs a
// few word scans of bitsets over the ring plus, once a sender has met every candidate with room,
// a walk of its contacts from the oldest.
//
// Thread-safety: plain values; Choose is const, Consume mutates the pool and the history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kiln/domain/random.h"

namespace kiln::warmup {

enum class CounterpartKind { kBot, kPeer };

std::string_view CounterpartKindName(CounterpartKind kind);  // "bot" / "peer"

struct Candidate {
  int64_t id = 0;        // bots.id or senders.id
  std::string domain;    // lower-case domain of its address
  std::string provider;  // bots.provider; peers: "" (grouped by domain only)
  int room = 0;          // warm-up mails it may still receive today (<= 0: none)
};

struct PairingOptions {
  int peer_share_percent = 20;  // warmup_peer_share_percent, clamped to [0, 100]
};

struct Pick {
  CounterpartKind kind = CounterpartKind::kBot;
  int64_t id = 0;
  std::string_view domain;  // points into the pool
  uint32_t position = 0;    // on its ring (for Consume)
};

class PairingPool;

// One sender's contacts with the candidates of one pool, oldest to newest.
class SenderHistory {
 public:
  SenderHistory() = default;
  // A sender that has contacted nobody yet.
  SenderHistory(const PairingPool& pool, int64_t sender_id);

  // Records a contact (oldest first); unknown ids are ignored. The last one recorded also sets
  // the previous counterpart's domain.
  void AddContact(const PairingPool& pool, CounterpartKind kind, int64_t id);

  int64_t sender_id() const { return sender_id_; }
  uint32_t last_domain() const { return last_domain_; }

 private:
  friend class PairingPool;
  // Position -> value, open addressing with linear probing (a sender meets few of a large
  // ring, so a dense array per sender would not fit 10k senders in memory).
  class SeqMap {
   public:
    uint32_t Get(uint32_t pos) const;            // 0 when absent
    uint32_t Put(uint32_t pos, uint32_t value);  // returns the previous value (0: none)
    void Clear() {
      slots_.clear();
      used_ = 0;
    }

   private:
    std::vector<uint64_t> slots_;  // (pos + 1) << 32 | value; 0 = empty
    size_t used_ = 0;
  };
  struct PerKind {
    uint32_t SeqOf(uint32_t pos) const { return seq.Get(pos); }
    std::vector<uint64_t> never;  // bit per ring position: not contacted yet
    std::vector<uint32_t> order;  // contacted positions, oldest first (lazy deletion)
    SeqMap seq;                   // contacted position -> its latest index in `order` + 1
    size_t size = 0;              // ring size the history was built for
    size_t head = 0;              // order[0..head) are all stale
  };
  void Touch(PerKind& k, uint32_t pos);
  int64_t sender_id_ = 0;
  uint32_t self_peer_pos_ = UINT32_MAX;  // the sender's own place on the peer ring, if any
  uint32_t last_domain_ = UINT32_MAX;
  PerKind bots_, peers_;
};

class PairingPool {
 public:
  // Builds the rings. Candidates with equal ids in one kind keep the first. Linear-logarithmic in
  // the number of candidates.
  PairingPool(std::vector<Candidate> bots, std::vector<Candidate> peers);

  // The counterpart for `history`'s sender's next new thread, or nullopt when no candidate (other
  // than the sender itself) has room. `rng` draws the kind. Changes nothing: call Consume once
  // the mail is claimed.
  std::optional<Pick> Choose(const SenderHistory& history, domain::Rng& rng,
                             const PairingOptions& options) const;

  // Records that `pick` was used: one less room for it, and a contact in `history`.
  void Consume(const Pick& pick, SenderHistory* history);

  // Sets a candidate's room (a new day, or a recount); false when there is no such candidate.
  bool SetRoom(CounterpartKind kind, int64_t id, int room);
  // The room left for a candidate (0 when unknown).
  int RoomOf(CounterpartKind kind, int64_t id) const;

  size_t bot_count() const { return bots_.slots.size(); }
  size_t peer_count() const { return peers_.slots.size(); }

 private:
  friend class SenderHistory;
  struct Slot {
    int64_t id = 0;
    uint32_t domain = 0;  // interned
    int room = 0;
  };
  struct Ring {
    std::vector<Slot> slots;                      // in ring order
    std::vector<uint64_t> has_room;               // bit per slot
    size_t with_room = 0;                         // bits set in has_room
    std::vector<uint64_t> room_words;             // bit per word of has_room: not zero
    std::unordered_map<int64_t, uint32_t> index;  // id -> position
    void Build(std::vector<Candidate> candidates, PairingPool& pool);
    void SetRoom(size_t pos, int room);
    std::optional<uint32_t> PositionOf(int64_t id) const;
  };

  std::optional<uint32_t> ChooseIn(const Ring& ring, const SenderHistory::PerKind& contacts,
                                   CounterpartKind kind, const SenderHistory& history) const;
  uint32_t InternDomain(const std::string& domain);

  std::vector<std::string> domains_;
  std::unordered_map<std::string, uint32_t> domain_ids_;
  Ring bots_;
  Ring peers_;
};

// The lower-case domain of an address ("Ann@Example.COM" -> "example.com"; "" without '@').
std::string AddressDomain(std::string_view email);

}  // namespace kiln::warmup
