#include "core/pieces/picker.hpp"

#include <algorithm>
#include <atomic>
#include <random>
#include <tuple>

namespace btd {

namespace {
// Neighbouring seeds give a bare minstd_rand neighbouring first draws; seed_seq spreads them.
std::minstd_rand scrambled(std::uint32_t seed) {
    std::seed_seq seq{seed};
    return std::minstd_rand(seq);
}
}  // namespace

std::uint32_t next_picker_seed() {
    static const std::uint32_t kBase = std::random_device{}();
    static std::atomic<std::uint32_t> counter{0};
    return kBase + counter.fetch_add(1, std::memory_order_relaxed);  // scrambled() spreads them
}

PiecePicker::PiecePicker(int num_pieces, std::int64_t piece_length, std::int64_t total_size,
                         std::uint32_t seed)
    : num_pieces_(std::max(num_pieces, 0)),
      piece_length_(piece_length),
      total_size_(total_size),
      have_(static_cast<std::size_t>(num_pieces_)),
      wanted_(static_cast<std::size_t>(num_pieces_)),
      missing_wanted_(num_pieces_),
      rng_(scrambled(seed)) {
    wanted_.set_all();
}

// ---- swarm state: built on first need, released when idle ----

void PiecePicker::build_swarm_state() {
    if (swarm_built_) return;
    swarm_built_ = true;
    availability_.assign(num_pieces_, 0);
    buckets_.assign(kPriorityMax + 1, std::vector<std::vector<int>>(1));
    bucket_pos_.assign(num_pieces_, -1);
    bucketed_by_priority_.assign(kPriorityMax + 1, 0);
    bucketed_count_ = 0;
    sequential_cursor_ = 0;
    download_pos_.assign(num_pieces_, -1);
    free_in_started_ = 0;
    buckets_[kPriorityDefault][0].reserve(num_pieces_ - num_have());
    for (int p = 0; p < num_pieces_; ++p)
        if (!have_.test(p)) bucket_insert(p);
}

bool PiecePicker::release_idle_state() {
    if (!swarm_built_) return true;
    if (!downloading_.empty()) return false;
    if (std::any_of(availability_.begin(), availability_.end(), [](int a) { return a != 0; }))
        return false;
    swarm_built_ = false;
    // swap with empties: clear() alone would keep the capacity this is meant to give back
    std::vector<int>().swap(availability_);
    std::vector<std::vector<std::vector<int>>>().swap(buckets_);
    std::vector<int>().swap(bucket_pos_);
    std::vector<int>().swap(bucketed_by_priority_);
    std::vector<PieceState>().swap(downloading_);
    std::vector<int>().swap(download_pos_);
    bucketed_count_ = 0;
    free_in_started_ = 0;
    return true;
}

// ---- piece geometry ----

int PiecePicker::piece_size(int piece) const {
    if (!valid_piece(piece)) return 0;
    if (piece + 1 < num_pieces_) return static_cast<int>(piece_length_);
    return static_cast<int>(total_size_ - piece_length_ * (num_pieces_ - 1));
}

int PiecePicker::block_count(int piece) const {
    return (piece_size(piece) + kBlockSize - 1) / kBlockSize;
}

BlockRef PiecePicker::block_ref(int piece, int block) const {
    int offset = block * kBlockSize;
    return {piece, offset, std::min(kBlockSize, piece_size(piece) - offset)};
}

// ---- availability buckets ----

void PiecePicker::bucket_insert(int piece) {
    if (!swarm_built_) return;  // build_swarm_state buckets every missing piece
    if (bucket_pos_[piece] >= 0 || priority_of(piece) == kPriorityDontDownload) return;
    auto& levels = buckets_[priority_of(piece)];
    auto a = static_cast<std::size_t>(availability_[piece]);
    if (levels.size() <= a) levels.resize(a + 1);
    bucket_pos_[piece] = static_cast<int>(levels[a].size());
    levels[a].push_back(piece);
    ++bucketed_count_;
    ++bucketed_by_priority_[priority_of(piece)];
    sequential_cursor_ = std::min(sequential_cursor_, piece);
}

void PiecePicker::bucket_remove(int piece) {
    if (!swarm_built_) return;
    int pos = bucket_pos_[piece];
    if (pos < 0) return;
    --bucketed_by_priority_[priority_of(piece)];
    auto& bucket = buckets_[priority_of(piece)][availability_[piece]];
    int moved = bucket.back();
    bucket[pos] = moved;
    bucket_pos_[moved] = pos;
    bucket.pop_back();
    bucket_pos_[piece] = -1;
    --bucketed_count_;
}

void PiecePicker::change_availability(int piece, int delta) {
    if (!valid_piece(piece)) return;
    if (!swarm_built_) {
        if (delta < 0) return;  // no state = every availability is 0 already
        build_swarm_state();
    }
    bool bucketed = bucket_pos_[piece] >= 0;
    if (bucketed) bucket_remove(piece);
    availability_[piece] = std::max(0, availability_[piece] + delta);
    if (bucketed) bucket_insert(piece);
}

void PiecePicker::peer_has_bitfield(const Bitfield& bits) {
    if (bits.size() != have_.size()) return;
    if (bits.none()) return;
    for (int p = 0; p < num_pieces_; ++p)
        if (bits.test(p)) change_availability(p, +1);
}

void PiecePicker::peer_lost_bitfield(const Bitfield& bits) {
    if (bits.size() != have_.size()) return;
    for (int p = 0; p < num_pieces_; ++p)
        if (bits.test(p)) change_availability(p, -1);
}

void PiecePicker::peer_has_piece(int piece) {
    change_availability(piece, +1);
}
void PiecePicker::peer_lost_piece(int piece) {
    change_availability(piece, -1);
}

int PiecePicker::availability(int piece) const {
    return valid_piece(piece) && swarm_built_ ? availability_[piece] : 0;
}

bool PiecePicker::is_interesting(const Bitfield& peer_has) const {
    if (peer_has.size() != have_.size() || is_finished()) return false;
    const auto& theirs = peer_has.bytes();
    const auto& ours = have_.bytes();
    const auto& wanted = wanted_.bytes();
    for (std::size_t i = 0; i < ours.size(); ++i)
        if (theirs[i] & ~ours[i] & wanted[i]) return true;
    return false;
}

bool PiecePicker::set_piece_priorities(const std::vector<std::uint8_t>& priorities) {
    if (static_cast<int>(priorities.size()) != num_pieces_) return false;
    auto is_default = [](std::uint8_t p) { return p == kPriorityDefault; };
    if (priority_.empty() && std::all_of(priorities.begin(), priorities.end(), is_default))
        return true;
    if (priority_.empty()) priority_.assign(num_pieces_, kPriorityDefault);
    for (int p = 0; p < num_pieces_; ++p) {
        auto next = static_cast<std::uint8_t>(std::min<int>(priorities[p], kPriorityMax));
        if (next == priority_[p]) continue;
        bool was_bucketed = swarm_built_ && bucket_pos_[p] >= 0;
        bucket_remove(p);
        bool was_wanted = priority_[p] != kPriorityDontDownload;
        bool now_wanted = next != kPriorityDontDownload;
        priority_[p] = next;
        if (was_wanted != now_wanted) {
            if (now_wanted)
                wanted_.set(p);
            else
                wanted_.reset(p);
            if (!have_.test(p)) missing_wanted_ += now_wanted ? 1 : -1;
        }
        // A piece in progress stays in progress whatever its new priority.
        if (was_bucketed || (!have_.test(p) && downloading(p) == nullptr)) bucket_insert(p);
    }
    if (std::all_of(priority_.begin(), priority_.end(), is_default))
        std::vector<std::uint8_t>().swap(priority_);
    return true;
}

// ---- our pieces ----

PiecePicker::PieceState* PiecePicker::downloading(int piece) {
    if (!valid_piece(piece) || !swarm_built_ || download_pos_[piece] < 0) return nullptr;
    return &downloading_[download_pos_[piece]];
}

const PiecePicker::PieceState* PiecePicker::downloading(int piece) const {
    if (!valid_piece(piece) || !swarm_built_ || download_pos_[piece] < 0) return nullptr;
    return &downloading_[download_pos_[piece]];
}

PiecePicker::PieceState& PiecePicker::start_piece(int piece) {
    bucket_remove(piece);
    PieceState ps;
    ps.piece = piece;
    ps.blocks.resize(block_count(piece));
    ps.free = static_cast<int>(ps.blocks.size());
    free_in_started_ += ps.free;
    download_pos_[piece] = static_cast<int>(downloading_.size());
    downloading_.push_back(std::move(ps));
    return downloading_.back();
}

void PiecePicker::stop_piece(int piece) {
    if (!swarm_built_) return;
    int pos = download_pos_[piece];
    if (pos < 0) return;
    free_in_started_ -= downloading_[pos].free;
    if (pos + 1 != static_cast<int>(downloading_.size())) {
        downloading_[pos] = std::move(downloading_.back());
        download_pos_[downloading_[pos].piece] = pos;
    }
    downloading_.pop_back();
    download_pos_[piece] = -1;
}

void PiecePicker::we_have(int piece) {
    if (!valid_piece(piece) || have_.test(piece)) return;
    stop_piece(piece);
    bucket_remove(piece);
    have_.set(piece);
    if (wanted_.test(piece)) --missing_wanted_;
}

void PiecePicker::piece_failed(int piece) {
    if (!valid_piece(piece)) return;
    if (have_.test(piece) && wanted_.test(piece)) ++missing_wanted_;
    have_.reset(piece);  // also covers a piece that a re-check found bad
    stop_piece(piece);
    bucket_insert(piece);
}

bool PiecePicker::have(int piece) const {
    return valid_piece(piece) && have_.test(piece);
}
const Bitfield& PiecePicker::have_bitfield() const {
    return have_;
}
bool PiecePicker::is_complete() const {
    return have_.all();
}

// ---- picking ----

void PiecePicker::take_free_blocks(PieceState& ps, PeerKey peer, int max_blocks,
                                   std::vector<BlockRef>& out) {
    for (int b = 0; b < static_cast<int>(ps.blocks.size()) && ps.free > 0; ++b) {
        if (static_cast<int>(out.size()) >= max_blocks) return;
        Block& block = ps.blocks[b];
        if (block.received || !block.requested_by.empty()) continue;
        block.requested_by.push_back(peer);
        --ps.free;
        --free_in_started_;
        out.push_back(block_ref(ps.piece, b));
    }
}

std::vector<BlockRef> PiecePicker::pick(const Bitfield& peer_has, PeerKey peer, int max_blocks,
                                        int max_new_pieces) {
    std::vector<BlockRef> out;
    if (max_blocks <= 0 || peer_has.size() != have_.size()) return out;
    build_swarm_state();
    auto full = [&] { return static_cast<int>(out.size()) >= max_blocks; };

    // 1. Started pieces: highest priority first, then the ones with the fewest free blocks so
    // they complete quickly (sequential: the lowest index).
    if (free_in_started_ > 0) {
        std::vector<std::tuple<int, int, int>> started;  // (-priority, free or index, piece)
        for (const auto& ps : downloading_)
            if (ps.free > 0 && peer_has.test(ps.piece))
                started.emplace_back(-priority_of(ps.piece), sequential_ ? ps.piece : ps.free,
                                     ps.piece);
        std::sort(started.begin(), started.end());
        for (const auto& [priority, order, piece] : started) {
            if (full()) break;
            take_free_blocks(*downloading(piece), peer, max_blocks, out);
        }
    }

    // 2. New pieces, rarest first (or in order).
    if (max_new_pieces > 0 && !full() && bucketed_count_ > 0) {
        if (sequential_)
            open_sequential(peer_has, peer, max_blocks, max_new_pieces, out);
        else if (peer_has.count() * 8 < static_cast<std::size_t>(bucketed_count_))
            open_from_sparse_peer(peer_has, peer, max_blocks, max_new_pieces, out);
        else
            open_from_buckets(peer_has, peer, max_blocks, max_new_pieces, out);
    }

    // 3. Endgame: race the blocks still outstanding at other peers.
    if (!full() && in_endgame()) add_endgame_blocks(peer_has, peer, max_blocks, out);
    return out;
}

// Walks the availability buckets from the highest priority and the rarest. Buckets before
// (priority, level) hold nothing this peer has, and they only shrink while we pick, so the walk
// never goes back. Cheap when the peer has a fair share of what we miss.
void PiecePicker::open_from_buckets(const Bitfield& peer_has, PeerKey peer, int max_blocks,
                                    int max_new_pieces, std::vector<BlockRef>& out) {
    int priority = kPriorityMax;
    std::size_t level = 0;
    for (int opened = 0; opened < max_new_pieces && static_cast<int>(out.size()) < max_blocks;
         ++opened) {
        int found = -1;
        for (; priority > kPriorityDontDownload; --priority, level = 0) {
            if (bucketed_by_priority_[priority] > 0 &&
                (found = find_in_buckets(peer_has, buckets_[priority], level)) >= 0)
                break;
        }
        if (found < 0) break;
        take_free_blocks(start_piece(found), peer, max_blocks, out);
    }
}

// The first piece the peer has at availability `level` or above; `level` is left on the bucket
// it was found in. -1 if none.
int PiecePicker::find_in_buckets(const Bitfield& peer_has,
                                 const std::vector<std::vector<int>>& levels, std::size_t& level) {
    for (; level < levels.size(); ++level) {
        const auto& bucket = levels[level];
        if (bucket.empty()) continue;
        // Random start, cyclic walk: a uniform choice among the peer's equally rare pieces.
        std::size_t start = std::uniform_int_distribution<std::size_t>(0, bucket.size() - 1)(rng_);
        for (std::size_t i = 0; i < bucket.size(); ++i) {
            int p = bucket[(start + i) % bucket.size()];
            if (peer_has.test(p)) return p;
        }
    }
    return -1;
}

// Lowest index first within each priority. The cursor skips the prefix we have or have started.
void PiecePicker::open_sequential(const Bitfield& peer_has, PeerKey peer, int max_blocks,
                                  int max_new_pieces, std::vector<BlockRef>& out) {
    while (sequential_cursor_ < num_pieces_ && bucket_pos_[sequential_cursor_] < 0)
        ++sequential_cursor_;
    int opened = 0;
    for (int priority = kPriorityMax; priority > kPriorityDontDownload; --priority) {
        if (bucketed_by_priority_[priority] == 0) continue;
        for (int p = sequential_cursor_; p < num_pieces_; ++p) {
            if (opened == max_new_pieces || static_cast<int>(out.size()) >= max_blocks) return;
            if (bucket_pos_[p] < 0 || priority_of(p) != priority || !peer_has.test(p)) continue;
            take_free_blocks(start_piece(p), peer, max_blocks, out);
            ++opened;
        }
    }
}

// A peer with few pieces: scanning its bitfield (skipping empty bytes) is cheaper than walking
// buckets full of pieces it does not have.
void PiecePicker::open_from_sparse_peer(const Bitfield& peer_has, PeerKey peer, int max_blocks,
                                        int max_new_pieces, std::vector<BlockRef>& out) {
    // (-priority, availability, random, piece)
    std::vector<std::tuple<int, int, std::uint32_t, int>> candidates;
    const auto& bytes = peer_has.bytes();
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] == 0) continue;
        for (int bit = 0; bit < 8; ++bit) {
            int p = static_cast<int>(i * 8) + bit;
            if (p < num_pieces_ && peer_has.test(p) && bucket_pos_[p] >= 0)
                candidates.emplace_back(-priority_of(p), availability_[p],
                                        static_cast<std::uint32_t>(rng_()), p);
        }
    }
    std::sort(candidates.begin(), candidates.end());
    int opened = 0;
    for (const auto& [priority, avail, random, p] : candidates) {
        if (opened == max_new_pieces || static_cast<int>(out.size()) >= max_blocks) break;
        take_free_blocks(start_piece(p), peer, max_blocks, out);
        ++opened;
    }
}

void PiecePicker::add_endgame_blocks(const Bitfield& peer_has, PeerKey peer, int max_blocks,
                                     std::vector<BlockRef>& out) {
    std::vector<std::tuple<std::size_t, int, int>> candidates;  // (requesters, piece, block)
    for (const auto& ps : downloading_) {
        if (!peer_has.test(ps.piece)) continue;
        for (int b = 0; b < static_cast<int>(ps.blocks.size()); ++b) {
            const Block& block = ps.blocks[b];
            if (block.received || block.requested_by.empty()) continue;
            if (std::find(block.requested_by.begin(), block.requested_by.end(), peer) !=
                block.requested_by.end())
                continue;
            candidates.emplace_back(block.requested_by.size(), ps.piece, b);
        }
    }
    std::sort(candidates.begin(), candidates.end());  // least-raced blocks first
    for (const auto& [count, piece, b] : candidates) {
        if (static_cast<int>(out.size()) >= max_blocks) break;
        downloading(piece)->blocks[b].requested_by.push_back(peer);
        out.push_back(block_ref(piece, b));
    }
}

bool PiecePicker::in_endgame() const {
    return swarm_built_ && !is_finished() && bucketed_count_ == 0 && free_in_started_ == 0;
}

int PiecePicker::pieces_in_progress() const {
    return static_cast<int>(downloading_.size());
}

// ---- request outcomes ----

void PiecePicker::release_request(PieceState& ps, Block& block, PeerKey peer) {
    auto it = std::find(block.requested_by.begin(), block.requested_by.end(), peer);
    if (it == block.requested_by.end()) return;
    block.requested_by.erase(it);
    if (block.requested_by.empty() && !block.received) {
        ++ps.free;
        ++free_in_started_;
    }
}

bool PiecePicker::stop_if_untouched(PieceState& ps) {
    if (ps.free != static_cast<int>(ps.blocks.size())) return false;
    int piece = ps.piece;
    stop_piece(piece);
    bucket_insert(piece);
    return true;
}

bool PiecePicker::abort_request(const BlockRef& ref, PeerKey peer) {
    PieceState* ps = downloading(ref.piece);
    if (!ps || ref.offset < 0 || ref.offset % kBlockSize != 0) return false;
    auto b = static_cast<std::size_t>(ref.offset / kBlockSize);
    if (b >= ps->blocks.size()) return false;
    release_request(*ps, ps->blocks[b], peer);
    return stop_if_untouched(*ps);
}

std::vector<int> PiecePicker::abort_all(PeerKey peer) {
    std::vector<int> stopped;
    // Backwards, because un-starting a piece moves the last entry into its slot.
    for (int i = static_cast<int>(downloading_.size()) - 1; i >= 0; --i) {
        PieceState& ps = downloading_[i];
        for (auto& block : ps.blocks) release_request(ps, block, peer);
        int piece = ps.piece;
        if (stop_if_untouched(ps)) stopped.push_back(piece);
    }
    return stopped;
}

bool PiecePicker::block_received(const BlockRef& ref, PeerKey peer, std::vector<PeerKey>& others) {
    others.clear();
    PieceState* ps = downloading(ref.piece);
    if (!ps || ref.offset < 0 || ref.offset % kBlockSize != 0) return false;
    int b = ref.offset / kBlockSize;
    if (b >= static_cast<int>(ps->blocks.size())) return false;
    if (ref.length != block_ref(ref.piece, b).length) return false;
    Block& block = ps->blocks[b];
    if (block.received) return false;
    if (block.requested_by.empty()) {
        --ps->free;
        --free_in_started_;
    }
    for (PeerKey p : block.requested_by)
        if (p != peer) others.push_back(p);
    block.requested_by.clear();
    block.received = true;
    ++ps->received;
    return true;
}

bool PiecePicker::piece_fully_received(int piece) const {
    const PieceState* ps = downloading(piece);
    return ps && ps->received == static_cast<int>(ps->blocks.size());
}

}  // namespace btd
