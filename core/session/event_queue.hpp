#pragma once
// Engine events on their way to the listeners (model: libtorrent's alert queue). The engine
// pushes; delivery happens on the network thread once the operation that raised the event is
// over, never inside it:
// - an event raised during a public Session call (marked by an Operation) waits until the
//   outermost such call has done its work, and is delivered just before that call returns;
// - an event raised elsewhere (a disk completion, a timer, a peer message) is delivered by a
//   handler posted to the io_context, after the current handler returns.
// Listeners may call back into the Session: calls they make run at once, and the events those
// raise join the end of the queue, delivered after the current listener returns (one queue, in
// the order raised). Everything here runs on the network thread.
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>

#include "core/session/session.hpp"
#include "core/session/types.hpp"

namespace btd {

class EventQueue {
  public:
    explicit EventQueue(boost::asio::io_context& io);
    ~EventQueue();  // events not yet delivered are dropped; later delivery handlers do nothing
    EventQueue(const EventQueue&) = delete;
    EventQueue& operator=(const EventQueue&) = delete;

    void push(SessionEvent event);
    // See Session::add_event_listener.
    EventSubscription subscribe(EventHandler handler);
    bool has_listeners() const { return !listeners_->handlers.empty(); }

    // Marks a public Session call for as long as it lives (create it first thing in the call).
    class Operation {
      public:
        explicit Operation(EventQueue& queue);
        ~Operation();
        Operation(const Operation&) = delete;
        Operation& operator=(const Operation&) = delete;

      private:
        EventQueue& queue_;
        int uncaught_ = 0;  // exceptions in flight when the call began
    };

  private:
    struct Listeners {
        std::map<std::uint64_t, std::shared_ptr<EventHandler>> handlers;  // by subscription
        std::uint64_t next_id = 1;
    };
    void deliver_pending();
    void deliver(const SessionEvent& event);
    void schedule_delivery();

    boost::asio::io_context& io_;
    std::shared_ptr<Listeners> listeners_ = std::make_shared<Listeners>();
    std::deque<SessionEvent> pending_;
    int depth_ = 0;            // public Session calls in progress
    bool delivering_ = false;  // inside deliver_pending(): it takes what listeners raise too
    bool posted_ = false;      // a delivery handler is waiting in the io_context
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace btd
