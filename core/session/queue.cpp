#include "core/session/queue.hpp"

#include <algorithm>

namespace btd::queue {

namespace {
bool slot_free(int used, int limit) {
    return limit < 0 || used < limit;
}
}  // namespace

std::vector<bool> may_run(const std::vector<Entry>& in_order, const Limits& limits) {
    std::vector<bool> out(in_order.size(), false);
    int downloads = 0;
    int seeds = 0;
    for (std::size_t i = 0; i < in_order.size(); ++i) {
        const Entry& e = in_order[i];
        if (!e.wants_to_run) continue;
        if (e.forced || e.stalled) {
            out[i] = true;
            continue;
        }
        int& used = e.seeding ? seeds : downloads;
        if (!slot_free(used, e.seeding ? limits.max_seeds : limits.max_downloads)) continue;
        ++used;
        out[i] = true;
    }
    return out;
}

std::optional<Move> parse_move(std::string_view name) {
    if (name == "top") return Move::top;
    if (name == "up") return Move::up;
    if (name == "down") return Move::down;
    if (name == "bottom") return Move::bottom;
    return std::nullopt;
}

std::vector<Sha1Hash> moved(std::vector<Sha1Hash> order, const Sha1Set& selected, Move to) {
    auto is_selected = [&](const Sha1Hash& id) { return selected.count(id) > 0; };
    switch (to) {
        case Move::top:
            std::stable_partition(order.begin(), order.end(), is_selected);
            break;
        case Move::bottom:
            std::stable_partition(order.begin(), order.end(),
                                  [&](const Sha1Hash& id) { return !is_selected(id); });
            break;
        case Move::up:
            for (std::size_t i = 1; i < order.size(); ++i)
                if (is_selected(order[i]) && !is_selected(order[i - 1]))
                    std::swap(order[i], order[i - 1]);
            break;
        case Move::down:
            for (std::size_t i = order.size(); i-- > 1;)
                if (is_selected(order[i - 1]) && !is_selected(order[i]))
                    std::swap(order[i], order[i - 1]);
            break;
    }
    return order;
}

std::vector<Sha1Hash> placed(std::vector<Sha1Hash> order, const Sha1Hash& id,
                             std::int64_t position) {
    auto it = std::find(order.begin(), order.end(), id);
    if (it == order.end()) return order;
    order.erase(it);
    auto at = std::clamp<std::int64_t>(position, 0, static_cast<std::int64_t>(order.size()));
    order.insert(order.begin() + at, id);
    return order;
}

void Positions::add(const Sha1Hash& id, std::optional<std::int64_t> saved) {
    if (key_.count(id)) return;
    std::int64_t key = saved && *saved >= 0 ? *saved : last_key_ + 1;
    key_[id] = key;
    // After every other one (a new torrent, or one restored in saved order): nobody moves.
    if (!stale_ && key > last_key_)
        position_[id] = static_cast<int>(key_.size()) - 1;
    else
        stale_ = true;
    last_key_ = std::max(last_key_, key);
}

void Positions::remove(const Sha1Hash& id) {
    if (key_.erase(id)) stale_ = true;
}

std::vector<Sha1Hash> Positions::order() const {
    renumber_if_stale();
    std::vector<Sha1Hash> out(position_.size());
    for (const auto& [id, pos] : position_) out[static_cast<std::size_t>(pos)] = id;
    return out;
}

std::vector<Sha1Hash> Positions::reorder(const std::vector<Sha1Hash>& order) {
    std::vector<Sha1Hash> changed;
    for (std::size_t i = 0; i < order.size(); ++i) {
        auto it = key_.find(order[i]);
        if (it == key_.end()) continue;
        if (position(order[i]) != static_cast<int>(i)) changed.push_back(order[i]);
        it->second = static_cast<std::int64_t>(i);
    }
    renumber();
    return changed;
}

int Positions::position(const Sha1Hash& id) const {
    renumber_if_stale();
    auto it = position_.find(id);
    return it == position_.end() ? -1 : it->second;
}

// Dense ranks by key. Keys stay as given: torrents restored one by one, in any order, each
// with its saved position, end up in their saved order.
void Positions::renumber() const {
    std::vector<std::pair<std::int64_t, Sha1Hash>> sorted;
    for (const auto& [id, key] : key_) sorted.emplace_back(key, id);
    std::sort(sorted.begin(), sorted.end());
    position_.clear();
    for (std::size_t i = 0; i < sorted.size(); ++i)
        position_[sorted[i].second] = static_cast<int>(i);
    last_key_ = sorted.empty() ? -1 : sorted.back().first;
    stale_ = false;
}

}  // namespace btd::queue
