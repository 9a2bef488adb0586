// Session::run_on_disk: the disk pool, lent to the daemon and RPC for their file-system calls.
#include "core/session/session.hpp"
#include "core/session/session_impl.hpp"

namespace btd {

void Session::run_on_disk(std::function<void()> work, std::function<void()> done) {
    impl_->on_disk(
        [work = std::move(work)] {
            work();
            return true;
        },
        [done = std::move(done)](bool) { done(); });
}

}  // namespace btd
