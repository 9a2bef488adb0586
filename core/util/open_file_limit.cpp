#include "core/util/open_file_limit.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace btd {

std::optional<OpenFileLimit> open_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
    auto clamp = [](rlim_t v) {
        return v == RLIM_INFINITY ? kMaxRaisedOpenFiles
                                  : static_cast<long>(std::min<rlim_t>(v, kMaxRaisedOpenFiles));
    };
    return OpenFileLimit{clamp(limit.rlim_cur), clamp(limit.rlim_max)};
}

std::optional<OpenFileLimit> raise_open_file_limit() {
    auto now = open_file_limit();
    if (!now || now->soft >= now->hard) return now;
    rlimit wanted{static_cast<rlim_t>(now->hard), 0};
    rlimit current{};
    if (::getrlimit(RLIMIT_NOFILE, &current) != 0) return now;
    wanted.rlim_max = current.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &wanted);  // failure leaves the old limit, which is still valid
    return open_file_limit();
}

}  // namespace btd
