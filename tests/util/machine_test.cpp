#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "util/machine.hpp"

extern char** environ;

using namespace perfbisect;

namespace {

// A real child process running `sleep 30`, with extra environment entries.
pid_t spawn_sleeper(std::vector<std::string> env = {}) {
    for (char** e = environ; *e != nullptr; ++e) {
        env.emplace_back(*e);
    }
    std::vector<char*> envp;
    for (auto& e : env) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    char sleep[] = "sleep";
    char seconds[] = "30";
    char* argv[] = {sleep, seconds, nullptr};
    pid_t pid = 0;
    REQUIRE(posix_spawnp(&pid, "sleep", nullptr, nullptr, argv, envp.data()) == 0);
    return pid;
}

int reap(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

}  // namespace

TEST_CASE("this machine is described and fingerprinted from what it reads", "[machine]") {
    const MachineInfo& m = this_machine();
    CHECK_FALSE(m.hostname.empty());
    CHECK(m.cores >= 1);
    CHECK_FALSE(m.kernel.empty());
    CHECK(m.fingerprint().size() == 16);
    MachineInfo other = m;
    other.governor = m.governor == "performance" ? "powersave" : "performance";
    CHECK(other.fingerprint() != m.fingerprint());  // a governor change is another machine
    other = m;
    other.kernel += "+1";
    CHECK(other.fingerprint() != m.fingerprint());
    CHECK(m.describe().find(m.kernel) != std::string::npos);
}

TEST_CASE("a process identity survives a round trip and tells live from dead", "[machine]") {
    const ProcessIdentity self = this_process();
    CHECK(self.pid == ::getpid());
    CHECK(self.start > 0);
    CHECK(ProcessIdentity::parse(self.token()) == self);
    CHECK(liveness(self) == Liveness::alive);

    const pid_t child = spawn_sleeper();
    const ProcessIdentity sleeper = identity_of(child);
    CHECK(liveness(sleeper) == Liveness::alive);
    ProcessIdentity recycled = sleeper;
    recycled.start += 1;  // same pid, another start time: a recycled pid
    CHECK(liveness(recycled) == Liveness::dead);
    ::kill(child, SIGKILL);
    // A zombie not yet reaped is dead too.
    for (int i = 0; i < 200 && liveness(sleeper) == Liveness::alive; ++i) {
        ::usleep(10000);
    }
    CHECK(liveness(sleeper) == Liveness::dead);
    reap(child);
    CHECK(liveness(sleeper) == Liveness::dead);

    ProcessIdentity rebooted = self;
    rebooted.boot_id = "another-boot";
    CHECK(liveness(rebooted) == Liveness::dead);
    ProcessIdentity elsewhere = self;
    elsewhere.host = "some-other-host";
    CHECK(liveness(elsewhere) == Liveness::unknown);
    CHECK(ProcessIdentity::parse("garbage").pid == 0);
}

TEST_CASE("processes left with a lease's environment are found and killed", "[machine]") {
    const pid_t marked = spawn_sleeper({"PERFBISECT_TEST_MARK=lease-42"});
    const pid_t other = spawn_sleeper({"PERFBISECT_TEST_MARK=lease-43"});
    const auto killed = kill_processes_with_env("PERFBISECT_TEST_MARK", "lease-42");
    CHECK(killed == std::vector<std::int64_t>{marked});
    CHECK(reap(marked) == SIGKILL);
    CHECK(liveness(identity_of(other)) == Liveness::alive);
    ::kill(other, SIGKILL);
    reap(other);
}
