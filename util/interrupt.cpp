#include "util/interrupt.hpp"

#include <atomic>
#include <csignal>

namespace perfbisect {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_abort{false};

extern "C" void on_stop_signal(int /*signo*/) { g_stop.store(true); }
extern "C" void on_abort_signal(int /*signo*/) { g_abort.store(true); }

void install(int signo, void (*handler)(int)) {
    struct sigaction action {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and notice the flag
    sigaction(signo, &action, nullptr);
}

}  // namespace

void install_interrupt_handlers() {
    install(SIGINT, on_stop_signal);
    install(SIGTERM, on_stop_signal);
    install(SIGHUP, on_stop_signal);
    install(SIGUSR1, on_abort_signal);
}

bool interrupt_requested() { return g_stop.load() || g_abort.load(); }
bool stop_requested() { return g_stop.load(); }
void request_interrupt() { g_stop.store(true); }
void request_abort() { g_abort.store(true); }
void clear_interrupt() {
    g_stop.store(false);
    g_abort.store(false);
}
void clear_abort_request() { g_abort.store(false); }

}  // namespace perfbisect
