#include "daemon/completion_hook.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstring>

#include "core/util/http_get.hpp"
#include "rpc/transport/url_fetch.hpp"

extern char** environ;

namespace btd::daemon {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxLoggedBytes = 64 * 1024;  // of one run's output
constexpr std::size_t kMaxLineBytes = 1000;
constexpr auto kReapPoll = 100ms;

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += ',';
        out += item;
    }
    return out;
}

std::vector<std::string> process_environment() {
    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
    return out;
}

// One run of the program: its output pipe, the timeout and the reaping of the child.
class HookRun : public std::enable_shared_from_this<HookRun> {
  public:
    HookRun(asio::io_context& io, std::string label, pid_t pid, int output_fd,
            std::chrono::seconds timeout, std::shared_ptr<CompletionHook::Running> running)
        : running_(std::move(running)),
          label_(std::move(label)),
          pid_(pid),
          output_(io, output_fd),
          deadline_(io),
          reap_timer_(io),
          timeout_(timeout) {}

    void start() {
        (*running_)[pid_] = label_;
        deadline_.expires_after(timeout_);
        deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (ec || self->reaped_) return;
            spdlog::warn("{}: still running after {} s: killed", self->label_,
                         self->timeout_.count());
            ::kill(-self->pid_, SIGKILL);  // its process group: children too
            ::kill(self->pid_, SIGKILL);
        });
        read();
        poll_exit();
    }

  private:
    void read() {
        output_.async_read_some(
            asio::buffer(buffer_),
            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                self->take(std::string_view(self->buffer_, n));
                if (ec) return self->flush_line();
                self->read();
            });
    }

    void take(std::string_view bytes) {
        for (char c : bytes) {
            if (c == '\n') {
                flush_line();
            } else if (line_.size() < kMaxLineBytes) {
                line_ += c;
            }
        }
    }

    void flush_line() {
        if (line_.empty()) return;
        logged_ += line_.size();
        if (logged_ <= kMaxLoggedBytes)
            spdlog::info("{}: {}", label_, line_);
        else if (!truncated_) {
            truncated_ = true;
            spdlog::info("{}: (more output not logged)", label_);
        }
        line_.clear();
    }

    void poll_exit() {
        int status = 0;
        pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_ || (done < 0 && errno == ECHILD)) return exited(status);
        reap_timer_.expires_after(kReapPoll);
        reap_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->poll_exit();
        });
    }

    void exited(int status) {
        reaped_ = true;
        running_->erase(pid_);
        deadline_.cancel();
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            spdlog::info("{}: finished", label_);
        else if (WIFEXITED(status))
            spdlog::warn("{}: exited with status {}", label_, WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            spdlog::warn("{}: killed by signal {}", label_, WTERMSIG(status));
        // Output still in the pipe is read to its end; a child it left behind holding the pipe
        // is not waited for beyond this read.
        boost::system::error_code ec;
        output_.non_blocking(true, ec);
        for (std::size_t n; (n = output_.read_some(asio::buffer(buffer_), ec)) > 0 && !ec;)
            take(std::string_view(buffer_, n));
        flush_line();
        output_.close(ec);
    }

    std::shared_ptr<CompletionHook::Running> running_;
    std::string label_;
    pid_t pid_;
    asio::posix::stream_descriptor output_;
    asio::steady_timer deadline_;
    asio::steady_timer reap_timer_;
    std::chrono::seconds timeout_;
    char buffer_[4096];
    std::string line_;
    std::size_t logged_ = 0;
    bool truncated_ = false;
    bool reaped_ = false;
};

// posix_spawn: stdin /dev/null, stdout and stderr into `output_fd`, its own process group.
// Returns the pid, or -1 with errno's text in `error`.
pid_t spawn_program(const std::string& program, const std::vector<std::string>& env, int output_fd,
                    std::string& error) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, output_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, output_fd, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    // What btd ignores or handles itself, the program gets with the default action.
    sigemptyset(&defaults);
    for (int signo : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, signo);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    std::vector<char*> argv{const_cast<char*>(program.c_str()), nullptr};
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        error = std::strerror(rc);
        return -1;
    }
    return pid;
}

// One webhook delivery: POST, then retries with doubling back-off.
struct WebhookPost : std::enable_shared_from_this<WebhookPost> {
    WebhookPost(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                const CompletionHook::Options& o, std::string body, std::string label,
                std::shared_ptr<bool> alive)
        : io(io),
          tls(std::move(tls)),
          url(o.url),
          attempts_left(o.url_attempts),
          backoff(o.url_first_backoff),
          timeout(o.url_timeout),
          body(std::move(body)),
          label(std::move(label)),
          alive(std::move(alive)),
          timer(io) {}

    void attempt() {
        --attempts_left;
        HttpGetOptions options;
        options.timeout = timeout;
        options.max_bytes = 64 * 1024;
        options.post_json = body;
        http_get(io, *tls, url, options, [self = shared_from_this()](HttpResult r) {
            if (!*self->alive) return;
            if (r.error.empty() && r.status >= 200 && r.status < 300)
                return spdlog::info("{}: delivered to {} ({})", self->label, self->url, r.status);
            auto why = r.error.empty() ? "HTTP status " + std::to_string(r.status) : r.error;
            if (r.certificate_rejected)  // retrying cannot change the verdict
                return spdlog::error(
                    "{}: not delivered to {}: {}; the server's certificate is not trusted: put "
                    "its CA certificate (PEM) in the file named by webhook_ca_file",
                    self->label, self->url, why);
            self->retry(why);
        });
    }

    void retry(const std::string& why) {
        if (attempts_left <= 0) return spdlog::error("{}: giving up on {}: {}", label, url, why);
        spdlog::warn("{}: {} failed ({}); again in {} ms", label, url, why, backoff.count());
        timer.expires_after(backoff);
        backoff *= 2;
        timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec && *self->alive) self->attempt();
        });
    }

    asio::io_context& io;
    std::shared_ptr<asio::ssl::context> tls;
    std::string url;
    int attempts_left;
    std::chrono::milliseconds backoff, timeout;
    std::string body, label;
    std::shared_ptr<bool> alive;
    asio::steady_timer timer;
};

}  // namespace

std::vector<std::string> hook_environment(const CompletedTorrent& t,
                                          const std::vector<std::string>& base) {
    std::vector<std::string> env;
    for (const auto& entry : base)
        if (entry.rfind("BTD_", 0) != 0) env.push_back(entry);
    env.push_back("BTD_TORRENT_ID=" + t.id);
    env.push_back("BTD_TORRENT_NAME=" + t.name);
    env.push_back("BTD_DOWNLOAD_DIR=" + t.download_dir);
    env.push_back("BTD_LABELS=" + joined(t.labels));
    return env;
}

CompletionHook::CompletionHook(asio::io_context& io, Options options)
    : io_(io), options_(std::move(options)) {
    if (options_.url.empty()) return;
    tls_ = rpc::make_client_tls_context();
    if (options_.ca_file.empty()) return;
    boost::system::error_code ec;
    tls_->load_verify_file(options_.ca_file.string(), ec);
    if (ec)
        throw std::runtime_error("webhook_ca_file " + options_.ca_file.string() +
                                 ": cannot load PEM certificates: " + ec.message());
}

CompletionHook::~CompletionHook() {
    *alive_ = false;
}

void CompletionHook::on_completed(const CompletedTorrent& torrent) {
    if (!options_.program.empty()) run_program(torrent);
    if (!options_.url.empty()) post_webhook(torrent);
}

void CompletionHook::run_program(const CompletedTorrent& torrent) {
    std::string label = "on_complete " + torrent.id.substr(0, 8);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        spdlog::error("{}: cannot make a pipe: {}", label, std::strerror(errno));
        return;
    }
    std::string error;
    pid_t pid = spawn_program(options_.program.string(),
                              hook_environment(torrent, process_environment()), fds[1], error);
    ::close(fds[1]);
    if (pid < 0) {
        ::close(fds[0]);
        spdlog::error("{}: cannot run {}: {}", label, options_.program.string(), error);
        return;
    }
    spdlog::info("{}: started {} (pid {})", label, options_.program.string(), pid);
    std::make_shared<HookRun>(io_, label, pid, fds[0], options_.timeout, running_)->start();
}

namespace {

// Reaps the programs of `running` that exited; logs each one.
void reap_exited(CompletionHook::Running& running) {
    for (auto it = running.begin(); it != running.end();) {
        int status = 0;
        pid_t done = ::waitpid(it->first, &status, WNOHANG);
        if (done != it->first && !(done < 0 && errno == ECHILD)) {
            ++it;
            continue;
        }
        spdlog::info("{}: ended as btd exits", it->second);
        it = running.erase(it);
    }
}

}  // namespace

void CompletionHook::stop_running() {
    for (const auto& [pid, label] : *running_) {
        spdlog::warn("{}: still running as btd exits: SIGTERM (pid {})", label, pid);
        ::kill(-pid, SIGTERM);  // its process group: children too
        ::kill(pid, SIGTERM);
    }
    auto deadline = std::chrono::steady_clock::now() + options_.exit_grace;
    while (!running_->empty() && std::chrono::steady_clock::now() < deadline) {
        reap_exited(*running_);
        if (!running_->empty()) ::usleep(20'000);
    }
    for (const auto& [pid, label] : *running_) {
        spdlog::warn("{}: still running {} ms after SIGTERM: SIGKILL (pid {})", label,
                     options_.exit_grace.count(), pid);
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    running_->clear();
}

void CompletionHook::post_webhook(const CompletedTorrent& torrent) {
    auto body = torrent.summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string label = "on_complete_url " + torrent.id.substr(0, 8);
    std::make_shared<WebhookPost>(io_, tls_, options_, std::move(body), label, alive_)->attempt();
}

}  // namespace btd::daemon
