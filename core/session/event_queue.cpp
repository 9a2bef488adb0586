#include "core/session/event_queue.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <exception>
#include <vector>

namespace btd {

EventQueue::EventQueue(boost::asio::io_context& io) : io_(io) {}

EventQueue::~EventQueue() {
    *alive_ = false;
}

void EventQueue::push(SessionEvent event) {
    pending_.push_back(std::move(event));
    if (depth_ == 0 && !delivering_) schedule_delivery();
}

EventSubscription EventQueue::subscribe(EventHandler handler) {
    auto id = listeners_->next_id++;
    listeners_->handlers.emplace(id, std::make_shared<EventHandler>(std::move(handler)));
    // The handle may outlive the session: it then has nothing left to cancel.
    return EventSubscription([listeners = std::weak_ptr<Listeners>(listeners_), id] {
        if (auto l = listeners.lock()) l->handlers.erase(id);
    });
}

EventQueue::Operation::Operation(EventQueue& queue)
    : queue_(queue), uncaught_(std::uncaught_exceptions()) {
    ++queue_.depth_;
}

EventQueue::Operation::~Operation() {
    if (--queue_.depth_ > 0 || queue_.delivering_) return;
    // A call that ends in an exception delivers later: listeners never run during unwinding.
    if (std::uncaught_exceptions() > uncaught_)
        queue_.schedule_delivery();
    else
        queue_.deliver_pending();
}

void EventQueue::schedule_delivery() {
    if (posted_ || pending_.empty()) return;
    posted_ = true;
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
        auto flag = alive.lock();
        if (!flag || !*flag) return;
        posted_ = false;
        if (depth_ == 0 && !delivering_) deliver_pending();
    });
}

void EventQueue::deliver_pending() {
    delivering_ = true;
    while (!pending_.empty()) {
        auto event = std::move(pending_.front());
        pending_.pop_front();
        deliver(event);
    }
    delivering_ = false;
}

// Every listener subscribed when the event is delivered gets it, unless an earlier listener
// cancels it meanwhile. A listener that throws is logged; the others still get the event.
void EventQueue::deliver(const SessionEvent& event) {
    std::vector<std::pair<std::uint64_t, std::shared_ptr<EventHandler>>> targets(
        listeners_->handlers.begin(), listeners_->handlers.end());
    for (auto& [id, handler] : targets) {
        if (!listeners_->handlers.count(id)) continue;
        try {
            (*handler)(event);
        } catch (const std::exception& e) {
            spdlog::error("event listener failed on a '{}' event: {}", event_name(event), e.what());
        }
    }
}

}  // namespace btd
