#include "rpc/methods/free_space.hpp"

#include <memory>
#include <system_error>

namespace btd::rpc {

FreeSpace measure_free_space(const std::filesystem::path& dir) {
    std::error_code ec;
    auto space = std::filesystem::space(dir, ec);
    if (ec) return {-1, -1, ec.message()};
    return {
        static_cast<std::int64_t>(space.available), static_cast<std::int64_t>(space.capacity), {}};
}

void measure_free_space(Session& session, std::filesystem::path dir,
                        std::function<void(FreeSpace)> done) {
    auto result = std::make_shared<FreeSpace>();
    session.run_on_disk([result, dir = std::move(dir)] { *result = measure_free_space(dir); },
                        [result, done = std::move(done)] { done(std::move(*result)); });
}

}  // namespace btd::rpc
