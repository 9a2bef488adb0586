#include "rpc/transmission/file_choices.hpp"

#include "rpc/transmission/arguments.hpp"
#include "rpc/transmission/transmission_rpc.hpp"

namespace btd::rpc::transmission {
namespace {

constexpr int kSkip = 0;
constexpr int kLow = 1;
constexpr int kNormal = 4;
constexpr int kHigh = 7;

template <typename Fn>
void for_each_index(const std::optional<std::vector<std::int64_t>>& list,
                    const std::vector<int>& visible, std::string_view method, Fn fn) {
    if (!list) return;
    if (list->empty()) {
        for (int i : visible) fn(i);
        return;
    }
    for (auto index : *list) {
        if (index >= static_cast<std::int64_t>(visible.size()))
            throw MethodError(std::string(method) + ": file index " + std::to_string(index) +
                              " is out of range (the torrent has " +
                              std::to_string(visible.size()) + " files)");
        fn(visible[static_cast<std::size_t>(index)]);
    }
}

}  // namespace

FileChoices read_file_choices(const nlohmann::json& args) {
    return {get_indices(args, "files-wanted"), get_indices(args, "files-unwanted"),
            get_indices(args, "priority-high"), get_indices(args, "priority-low"),
            get_indices(args, "priority-normal")};
}

std::vector<int> apply_file_choices(const FileChoices& choices, std::vector<int> current,
                                    const std::vector<int>& visible, std::string_view method) {
    auto set_if_wanted = [&](int priority) {
        return [&current, priority](int i) {
            if (current[i] != kSkip) current[i] = priority;
        };
    };
    for_each_index(choices.wanted, visible, method, [&](int i) {
        if (current[i] == kSkip) current[i] = kNormal;
    });
    for_each_index(choices.high, visible, method, set_if_wanted(kHigh));
    for_each_index(choices.low, visible, method, set_if_wanted(kLow));
    for_each_index(choices.normal, visible, method, set_if_wanted(kNormal));
    for_each_index(choices.unwanted, visible, method, [&](int i) { current[i] = kSkip; });
    return current;
}

}  // namespace btd::rpc::transmission
